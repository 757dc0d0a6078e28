/**
 * Opening the file of a split part, and checking that it is still the file the
 * splits were planned with: same size, same modification time. A file that
 * shrinks, grows or is rewritten before or while a map task reads it then
 * fails the job with `TSMR_INPUT_CHANGED` instead of being read in part
 * (issue #8). The reader checks when it opens a part and when it has read it;
 * the job checks that the bytes read equal the bytes planned
 * ({@link inputBytesDiffer}).
 */
import { fstatSync, openSync, type Stats } from 'node:fs';
import { ErrorCode, TsmrError } from '../errors.ts';
import { closeQuietly } from '../shuffle/file-io.ts';
import { ioError } from './io-error.ts';
import type { SplitPart } from './splits.ts';

/** What the user can do about a changed input; the end of every `TSMR_INPUT_CHANGED` message. */
const ADVICE =
  'inputs must not change while a job reads them: copy or snapshot them first, then run the job again';

/** Errors of `open` that no retry can fix: the file is gone, is a directory, or is not readable by us. */
const PERMANENT_OPEN_ERRORS: ReadonlySet<string> = new Set([
  'ENOENT',
  'EISDIR',
  'ENOTDIR',
  'EACCES',
  'EPERM',
]);

/**
 * Opens the file of `part` for reading (a file descriptor) and checks it with
 * {@link checkPart}.
 * @throws TsmrError `TSMR_IO` naming the file when it cannot be opened (not
 *   retriable for `ENOENT`, `EISDIR`, `ENOTDIR`, `EACCES`, `EPERM`);
 *   `TSMR_INPUT_CHANGED` when it is not the planned file.
 */
export function openPart(part: SplitPart): number {
  let fd: number;
  try {
    fd = openSync(part.path, 'r');
  } catch (cause) {
    throw openError(part.path, cause);
  }
  try {
    checkPart(part, statOf(part, fd));
  } catch (error) {
    closeQuietly(fd);
    throw error;
  }
  return fd;
}

/** The `TSMR_IO` error of an input file that cannot be opened (see {@link openPart}). */
export function openError(path: string, cause: unknown): TsmrError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const why =
    code === 'ENOENT' || code === 'ENOTDIR'
      ? `, which was there when the job planned its splits (${ADVICE})`
      : code === 'EACCES' || code === 'EPERM'
        ? ' (the user running the job needs permission to read it)'
        : '';
  return ioError(
    `cannot open the input file ${path}${why}`,
    cause,
    { file: path },
    { retriable: code === undefined || !PERMANENT_OPEN_ERRORS.has(code) },
  );
}

/** `fstat` of the open file of `part`. @throws TsmrError `TSMR_IO` naming the file. */
export function statOf(part: SplitPart, fd: number): Stats {
  try {
    return fstatSync(fd);
  } catch (cause) {
    throw ioError(`cannot stat the input file ${part.path}`, cause, { file: part.path });
  }
}

/**
 * Checks that `found` (a `stat` of the part's file) shows the size and
 * modification time the splits were planned with.
 * @throws TsmrError `TSMR_INPUT_CHANGED` naming the file, what was planned and what was found.
 */
export function checkPart(part: SplitPart, found: Stats): void {
  if (found.isFile() && found.size === part.size && found.mtimeMs === part.mtimeMs) return;
  const now = found.isFile()
    ? `${found.size} bytes modified at ${isoTime(found.mtimeMs)}`
    : found.isDirectory()
      ? 'a directory'
      : 'not a regular file';
  throw changed(part, `found ${now}`, { size: found.size, mtimeMs: found.mtimeMs });
}

/**
 * The error for a part whose file ended at byte `at`, before the planned end
 * of the part's range: the file was truncated while it was read.
 */
export function endedEarly(part: SplitPart, at: number): TsmrError {
  return changed(
    part,
    `found its end at byte ${at}, before the planned end of the split at byte ${part.end}`,
    {
      endedAt: at,
    },
  );
}

function changed(part: SplitPart, found: string, details: Record<string, number>): TsmrError {
  return new TsmrError(
    ErrorCode.INPUT_CHANGED,
    `the input file ${part.path} changed after the job planned its splits: planned ${part.size} bytes ` +
      `modified at ${isoTime(part.mtimeMs)}, ${found}; ${ADVICE}`,
    { details: { file: part.path, plannedSize: part.size, plannedMtimeMs: part.mtimeMs, ...details } },
  );
}

/**
 * The error of a job whose map tasks read `read` bytes of input where the
 * splits planned `planned` (the job-level check behind the reader's checks).
 */
export function inputBytesDiffer(read: number, planned: number): TsmrError {
  return new TsmrError(
    ErrorCode.INPUT_CHANGED,
    `validation failed: the map tasks read ${read} bytes of input, the splits planned ${planned}: ` +
      `an input file changed while the job read it; ${ADVICE}`,
    { details: { inputBytesRead: read, inputBytesPlanned: planned } },
  );
}

function isoTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}
