/**
 * Synchronous file operations of the shuffle, with errors that name the file.
 *
 * The shuffle writes and reads its files synchronously: it runs inside worker
 * threads, where a blocking call stalls nothing else, and a synchronous read
 * costs no promise per chunk (see docs/architecture.md).
 */
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { ErrorCode, TsmrError } from '../errors.ts';

/** A `TSMR_IO` error for a failed file operation; a full disk (`ENOSPC`) is said plainly. */
export function ioError(op: string, file: string, cause: unknown): TsmrError {
  const code = (cause as { code?: unknown } | null)?.code;
  const what =
    code === 'ENOSPC'
      ? `no space left on device while writing ${file}: free disk space or point tmpDir elsewhere`
      : `cannot ${op} ${file}: ${(cause as Error)?.message ?? String(cause)}`;
  return new TsmrError(ErrorCode.IO, what, { cause, details: { file, syscallCode: code ?? null } });
}

/** Opens (creates or truncates) `file` for writing. @throws TsmrError `TSMR_IO`. */
export function openForWrite(file: string): number {
  try {
    return openSync(file, 'w');
  } catch (cause) {
    throw ioError('create', file, cause);
  }
}

/** Writes `buf[start, end)` to `fd` at its current position, all of it. @throws TsmrError `TSMR_IO`. */
export function writeFully(fd: number, buf: Uint8Array, start: number, end: number, file: string): void {
  try {
    while (start < end) start += writeSync(fd, buf, start, end - start);
  } catch (cause) {
    throw ioError('write', file, cause);
  }
}

/** Closes `fd`. @throws TsmrError `TSMR_IO` (a close can report a delayed write error). */
export function closeFile(fd: number, file: string): void {
  try {
    closeSync(fd);
  } catch (cause) {
    throw ioError('close', file, cause);
  }
}

/** Closes `fd`, ignoring errors (cleanup after a failure). */
export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already failing; the first error is the one to report
  }
}

/** Deletes `file` if it exists, ignoring errors (cleanup). */
export function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // missing or undeletable: nothing more to do
  }
}
