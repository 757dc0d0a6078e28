/**
 * The output file of an attempt that writes records where the job's
 * `OutputCommitter` says (`ReduceOutputSpec`): a reduce attempt, or a map
 * attempt of a map-only job (R = 0).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createOutputWriter } from '../io/output-writer.ts';
import type { SegmentInfo } from '../shuffle/run-writer.ts';
import type { ReduceOutputSpec } from './messages.ts';
import { createRecordsOutputWriter } from './records-output.ts';

export interface TaskOutput {
  /** Absolute path of the file. */
  path: string;
  write(key: unknown, value: unknown): void;
  /** A records output (no output directory) also returns its one segment. */
  close(): Promise<{ records: number; bytes: number; segment?: SegmentInfo }>;
  abort(): Promise<void>;
}

/**
 * Creates the attempt's output file: `<spec.dir>/<spec.fileName>` in the
 * spec's format, or, for a records output, framed records in the attempt's
 * `scratchDir` keyed by `groupKey()` (the encoded reduce key of the record
 * being written: the results are merged back in that order).
 * @throws TsmrError `TSMR_IO` when the file cannot be created.
 */
export function openTaskOutput(
  spec: ReduceOutputSpec,
  scratchDir: string,
  groupKey: () => Buffer,
): TaskOutput {
  const dir = spec.kind === 'file' ? spec.dir : scratchDir;
  mkdirSync(dir, { recursive: true });
  const path = join(dir, spec.fileName);
  const writer =
    spec.kind === 'file' ? createOutputWriter(path, spec.format) : createRecordsOutputWriter(path, groupKey);
  return {
    path,
    write: (key, value) => writer.write(key, value),
    close: () => writer.close(),
    abort: () => writer.abort(),
  };
}
