/**
 * A worker's cache of job bundles, addressed by content: the bundle whose
 * bytes have SHA-256 `<sha256>` (64 lowercase hex digits) lives at
 * `<workDir>/bundles/<sha256>.mjs`. A client uploads a bundle once; every
 * later task of any job built from the same code finds it here.
 *
 * The cache writes only bytes whose SHA-256 it has checked, and derives every
 * file name from a digest it has validated, so nothing a request sends can
 * name another file (DESIGN.md §6).
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, TsmrError } from '../../errors.ts';
import { ioError } from '../../io/io-error.ts';
import { bundleDigest, checkBundleDigest } from './bundle-digest.ts';

export class BundleCache {
  /** The cache directory, `<workDir>/bundles` (created by the first {@link put}). */
  readonly dir: string;

  constructor(workDir: string) {
    this.dir = join(workDir, 'bundles');
  }

  /**
   * Where the bundle `sha256` is (or would be) cached: `<dir>/<sha256>.mjs`.
   * @throws TsmrError `TSMR_USAGE` when `sha256` is not 64 lowercase hex digits.
   */
  path(sha256: string): string {
    checkBundleDigest(sha256);
    return join(this.dir, `${sha256}.mjs`);
  }

  /**
   * True when the bundle `sha256` is cached. A cached file is always complete:
   * {@link put} renames it into place only after it was written and synced.
   * @throws TsmrError `TSMR_USAGE` when `sha256` is not 64 lowercase hex digits.
   */
  has(sha256: string): boolean {
    return existsSync(this.path(sha256));
  }

  /**
   * Caches `bytes` as the bundle `sha256` and resolves to its path.
   *
   * The bytes are hashed first; then written to a temporary file of their
   * own in the cache directory (`.<sha256>.<uuid>.tmp`), synced to disk, and
   * renamed onto `<sha256>.mjs`. A rename is atomic, so a reader sees either
   * no file or the whole bundle, and concurrent puts of the same bundle are
   * safe: each renames identical bytes onto the same name. The directory is
   * not synced: a rename lost in a power cut only means the bundle is
   * uploaded again.
   *
   * @throws TsmrError `TSMR_USAGE` when `sha256` is not 64 lowercase hex digits;
   *   `TSMR_CORRUPT_DATA` when the bytes' SHA-256 is not `sha256` (nothing is
   *   written); `TSMR_IO` when writing fails (the temporary file is removed).
   */
  async put(sha256: string, bytes: Uint8Array): Promise<string> {
    const target = this.path(sha256);
    const actual = bundleDigest(bytes);
    if (actual !== sha256) {
      throw new TsmrError(
        ErrorCode.CORRUPT_DATA,
        `the job bundle sent as ${sha256} has SHA-256 ${actual} (${bytes.length} bytes): ` +
          'it was damaged on the way or is another bundle; nothing was cached, send it again',
        { details: { sha256, actual, bytes: bytes.length } },
      );
    }
    if (existsSync(target)) return target;
    const temp = join(this.dir, `.${sha256}.${randomUUID()}.tmp`);
    try {
      await mkdir(this.dir, { recursive: true });
      const file = await open(temp, 'wx');
      try {
        await file.writeFile(bytes);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, target);
    } catch (cause) {
      // The write's error is the one to report; removing the temporary file is best effort.
      await rm(temp, { force: true }).catch(() => undefined);
      throw ioError(`cannot cache the job bundle ${target}`, cause, { file: target });
    }
    return target;
  }
}
