/**
 * Split planning: which bytes of which input files each map task reads.
 */
import { ErrorCode, TsmrError } from '../errors.ts';
import type { InputFile } from './input-paths.ts';

/** A byte range `[start, end)` of one file. */
export interface SplitPart {
  /** Absolute path. */
  path: string;
  /** First byte of the range (in the file as stored, i.e. compressed bytes for `.gz`). */
  start: number;
  /** One past the last byte of the range. */
  end: number;
  /** True for a gzip file, which is read whole and decompressed as a stream. */
  compressed: boolean;
  /** Size in bytes of the whole file when the splits were planned ({@link InputFile.size}). */
  size: number;
  /** Modification time of the file when the splits were planned ({@link InputFile.mtimeMs}). */
  mtimeMs: number;
}

/** The input of one map task. */
export interface Split {
  /** Position in the plan, `0 … M-1`; map task `i` reads split `i`. */
  index: number;
  /** Byte ranges, read in this order. */
  parts: SplitPart[];
  /** Sum of the parts' lengths, in bytes. */
  length: number;
  /**
   * Which of the job's `inputs` the parts belong to (Hadoop's
   * `TaggedInputSplit`); absent for a job without `inputs`. A split never
   * mixes inputs.
   */
  input?: number;
}

/**
 * A file larger than `splitSize` is cut only while the remainder exceeds
 * `SPLIT_SLOP × splitSize`, so that the last split is never a tiny tail
 * (Hadoop's `FileInputFormat.SPLIT_SLOP`).
 */
export const SPLIT_SLOP = 1.1;

/** True for a file read as gzip (by its `.gz` name, as Hadoop's codec factory decides). */
export function isGzipPath(p: string): boolean {
  return p.endsWith('.gz') || p.endsWith('.GZ');
}

/** True for a spooled record file of in-memory input (see `spool.ts`). */
export function isRecordFilePath(p: string): boolean {
  return p.endsWith('.rec');
}

/**
 * Plans the splits of a job's input files.
 *
 * - A file of at least `splitSize` bytes is cut into ranges of `splitSize`
 *   bytes; the last range absorbs a tail of up to 10% of `splitSize`
 *   ({@link SPLIT_SLOP}), as Hadoop's `FileInputFormat.getSplits` does. Ranges
 *   are byte ranges: the record reader aligns them to line starts.
 * - Files smaller than `splitSize` (empty ones included) are packed greedily, in
 *   path order, into splits of at most `splitSize` bytes, as Hadoop's
 *   `CombineFileInputFormat` does for many small files. A pack stays open across
 *   the large files between its members.
 * - Gzip files (`.gz`, not splittable) and spooled record files (`.rec`) are
 *   one split each, whole, never packed with other files; with `opts.whole`
 *   (an input format without sync points to cut at, `'tsmr'`) every file is.
 *
 * Files are taken in path order whatever the order of `files`; the plan is a
 * pure function of the files and `splitSize`. Each part carries its file's
 * planned `size` and `mtimeMs`, which the record reader checks. Zero files
 * give zero splits.
 *
 * @param opts.splitSize target split size in bytes (the CLI default is 64 MiB).
 * @param opts.whole every file is one split, whole (default false).
 * @throws TsmrError `TSMR_USAGE` when `splitSize` is not a positive safe integer.
 */
export function planSplits(
  files: readonly InputFile[],
  opts: { splitSize: number; whole?: boolean },
): Split[] {
  const { splitSize } = opts;
  if (!Number.isSafeInteger(splitSize) || splitSize <= 0) {
    throw new TsmrError(
      ErrorCode.USAGE,
      `splitSize must be a positive integer number of bytes, got ${splitSize}`,
    );
  }
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const splits: Split[] = [];
  const add = (parts: SplitPart[], length: number): void => {
    splits.push({ index: splits.length, parts, length });
  };
  let pack: SplitPart[] = [];
  let packLength = 0;

  for (const file of sorted) {
    const { path, size, mtimeMs } = file;
    const compressed = isGzipPath(path);
    const part = (start: number, end: number): SplitPart => ({ path, start, end, compressed, size, mtimeMs });
    if (compressed || opts.whole || isRecordFilePath(path)) {
      add([part(0, size)], size);
    } else if (size >= splitSize) {
      let start = 0;
      while ((size - start) / splitSize > SPLIT_SLOP) {
        add([part(start, start + splitSize)], splitSize);
        start += splitSize;
      }
      add([part(start, size)], size - start);
    } else {
      if (pack.length > 0 && packLength + size > splitSize) {
        add(pack, packLength);
        pack = [];
        packLength = 0;
      }
      pack.push(part(0, size));
      packLength += size;
    }
  }
  if (pack.length > 0) add(pack, packLength);
  return splits;
}

/**
 * Splits of a job with several inputs (`JobDefinition.inputs`; Hadoop's
 * `MultipleInputs`): each input's files planned alone by {@link planSplits},
 * so that a split never mixes inputs (each has its own map and format), then
 * numbered in input order and tagged with their input's index.
 * @param opts.whole per input: its files are one split each (see {@link planSplits}).
 */
export function planInputSplits(
  inputs: readonly (readonly InputFile[])[],
  opts: { splitSize: number; whole?: readonly boolean[] },
): Split[] {
  const splits: Split[] = [];
  for (const [input, files] of inputs.entries()) {
    const planned = planSplits(files, { splitSize: opts.splitSize, whole: opts.whole?.[input] });
    for (const split of planned) splits.push({ ...split, index: splits.length, input });
  }
  return splits;
}
