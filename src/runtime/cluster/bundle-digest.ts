/**
 * The address of a job bundle: the SHA-256 of its bytes, as 64 lowercase hex
 * digits (DESIGN.md §6: job bundles are addressed by SHA-256 and verified).
 * The client computes it when it bundles a job; a worker recomputes it before
 * it caches the bytes, and takes nothing else from a request to name a file.
 */
import { createHash } from 'node:crypto';
import { ErrorCode, TsmrError } from '../../errors.ts';

/** SHA-256 of `bytes`, as 64 lowercase hex digits. */
export function bundleDigest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A SHA-256 as {@link bundleDigest} writes it: exactly 64 lowercase hex digits. */
export const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Checks that `sha256` has the form {@link bundleDigest} returns: exactly 64
 * lowercase hex digits, so that it can name a file safely.
 *
 * @throws TsmrError `TSMR_USAGE` for anything else (uppercase digits, another
 *   length, a path).
 */
export function checkBundleDigest(sha256: string): void {
  if (typeof sha256 !== 'string' || !SHA256_HEX.test(sha256)) {
    const shown = JSON.stringify(String(sha256).slice(0, 80));
    throw new TsmrError(
      ErrorCode.USAGE,
      `a job bundle's address must be its SHA-256 as 64 lowercase hex digits, not ${shown}`,
    );
  }
}
