/**
 * TeraGen (Hadoop's `TeraGen`, the Sort Benchmark's `gensort -a`): writes
 * `records` 100-byte ASCII records into `part-m-NNNNN` files of a new
 * directory, in parallel, deterministically for a seed. The files
 * concatenated in name order are byte for byte `gensort -a <records>` for
 * seed 0 (see `gensort.ts`).
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { usageError } from '../errors.ts';
import { RECORD_BYTES } from './gensort.ts';
import { onThreads } from './parallel.ts';
import type { TeraGenFile } from './teragen-file.ts';

export interface TeraGenOptions {
  /** Records to write (each 100 bytes). */
  records: number;
  /** Output directory: created; it must not exist or be empty, unless `overwrite`. */
  dir: string;
  /** Files to write (default: `workers`, at most one per record). */
  files?: number;
  /** Worker threads (default: available parallelism). */
  workers?: number;
  /** Generator stream (default 0: `gensort -a`'s records; see `gensort.ts`). */
  seed?: number;
  /** Delete `dir` first if it exists (default false). */
  overwrite?: boolean;
  signal?: AbortSignal;
}

export interface TeraGenResult {
  /** The files written, in record order. */
  files: string[];
  records: number;
  bytes: number;
  /** Sum of the records' CRC-32s (`record-checksum.ts`), as TeraValidate and valsort compute it. */
  checksum: bigint;
}

/**
 * Writes the records: file `i` of `f` holds records
 * `⌊i·records/f⌋ … ⌊(i+1)·records/f⌋ − 1`, one worker thread per file at a time.
 * @throws TsmrError `TSMR_USAGE` for bad options or a non-empty `dir`
 *   without `overwrite`; `TSMR_IO` when a file cannot be written.
 */
export async function teraGen(options: TeraGenOptions): Promise<TeraGenResult> {
  const { records, seed = 0 } = options;
  const workers = options.workers ?? availableParallelism();
  if (!Number.isSafeInteger(records) || records < 0) {
    throw usageError(`the number of records must be an integer >= 0, got ${records}`);
  }
  if (!Number.isSafeInteger(workers) || workers < 1)
    throw usageError(`workers must be an integer >= 1, got ${workers}`);
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 2 ** 32) {
    throw usageError(`the seed must be an integer from 0 to 2^32, got ${seed}`);
  }
  const fileCount = Math.max(1, Math.min(options.files ?? workers, Math.max(1, records)));
  if (!Number.isSafeInteger(fileCount))
    throw usageError(`files must be an integer >= 1, got ${options.files}`);
  const dir = resolve(options.dir);
  const existing = await readdir(dir).catch(() => undefined);
  if (existing !== undefined && existing.length > 0) {
    if (!options.overwrite) {
      throw usageError(
        `the TeraGen directory ${dir} exists and is not empty: pass --overwrite to replace it`,
      );
    }
    await rm(dir, { recursive: true, force: true });
  }
  await mkdir(dir, { recursive: true });
  const files: TeraGenFile[] = Array.from({ length: fileCount }, (_, i) => {
    const first = Math.floor((i * records) / fileCount);
    const next = Math.floor(((i + 1) * records) / fileCount);
    return { path: join(dir, `part-m-${String(i).padStart(5, '0')}`), first, count: next - first, seed };
  });
  const sums = await onThreads<TeraGenFile, bigint>('./teragen-file.ts', files, workers, options.signal);
  return {
    files: files.map((f) => f.path),
    records,
    bytes: records * RECORD_BYTES,
    checksum: sums.reduce((a, b) => a + b, 0n),
  };
}
