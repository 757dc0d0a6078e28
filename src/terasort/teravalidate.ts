/**
 * TeraValidate (Hadoop's `TeraValidate`, the Sort Benchmark's `valsort`):
 * checks that the `part-*` files of a TeraSort output, read in name order,
 * hold their 100-byte records in ascending order of their 10-byte keys, and
 * gives their count and checksum (the sum of the records' CRC-32s, which does
 * not depend on order) to compare with the input's: equal counts and sums
 * mean the same records, as far as a sum of CRCs can tell.
 */
import { readdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { usageError } from '../errors.ts';
import { resolveInputs } from '../io/input-paths.ts';
import { RECORD_BYTES } from './gensort.ts';
import { onThreads } from './parallel.ts';
import type { FileSummary } from './record-summary.ts';

export interface TeraValidateOptions {
  /** The sorted output: a directory of `part-*` files. */
  output: string;
  /** The unsorted input (files or directories, as `tsmr run --input`), to compare counts and checksums with. */
  input?: string[];
  /** Worker threads (default: available parallelism). */
  workers?: number;
  signal?: AbortSignal;
}

/** Totals of a set of record files. */
export interface RecordTotals {
  files: number;
  records: number;
  checksum: bigint;
}

export interface TeraValidateReport extends RecordTotals {
  /** Records whose key is smaller than the record's before it, within and across files. */
  unordered: number;
  /** Where order first breaks, e.g. `part-r-00001, record 17 (byte 1700)`. */
  firstUnordered?: string;
  /** Records whose key equals the key before it (`valsort`'s "duplicate keys"). */
  duplicates: number;
  /** The input's totals, when it was given. */
  input?: RecordTotals;
  /** In order, and (with an input) the same record count and checksum. */
  ok: boolean;
}

/**
 * Validates a TeraSort output (see the module doc); files are read on worker threads.
 * @throws TsmrError `TSMR_USAGE` when `output` has no `part-*` file;
 *   `TSMR_BAD_RECORD` for a file that is not a whole number of records;
 *   `TSMR_INPUT_NOT_FOUND` for a missing input; `TSMR_IO`.
 */
export async function teraValidate(options: TeraValidateOptions): Promise<TeraValidateReport> {
  const workers = options.workers ?? availableParallelism();
  const dir = resolve(options.output);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith('part-')).sort();
  if (names.length === 0)
    throw usageError(`no part-* files in ${dir}: give the output directory of a TeraSort job`);
  const inputFiles =
    options.input === undefined ? undefined : (await resolveInputs(options.input)).files.map((f) => f.path);
  const paths = [...names.map((n) => join(dir, n)), ...(inputFiles ?? [])];
  const summaries = await onThreads<string, FileSummary>(
    './record-summary.ts',
    paths,
    workers,
    options.signal,
  );
  const output = summaries.slice(0, names.length);
  const report: TeraValidateReport = { ...totals(output), unordered: 0, duplicates: 0, ok: false };
  let last: { key: Uint8Array; name: string } | undefined;
  for (const [i, s] of output.entries()) {
    report.unordered += s.unordered;
    report.duplicates += s.duplicates;
    if (s.firstUnordered !== undefined) {
      report.firstUnordered ??= `${names[i]}, record ${s.firstUnordered} (byte ${s.firstUnordered * RECORD_BYTES})`;
    }
    if (s.firstKey === undefined || s.lastKey === undefined) continue;
    if (last !== undefined) {
      const order = Buffer.compare(s.firstKey, last.key);
      if (order < 0) {
        report.unordered++;
        report.firstUnordered ??= `between ${last.name} and ${names[i]}: the first key of ${names[i]} is smaller than the last of ${last.name}`;
      } else if (order === 0) report.duplicates++;
    }
    last = { key: s.lastKey, name: names[i] };
  }
  if (inputFiles !== undefined) report.input = totals(summaries.slice(names.length));
  report.ok =
    report.unordered === 0 &&
    (report.input === undefined ||
      (report.input.records === report.records && report.input.checksum === report.checksum));
  return report;
}

function totals(summaries: readonly FileSummary[]): RecordTotals {
  return {
    files: summaries.length,
    records: summaries.reduce((n, s) => n + s.records, 0),
    checksum: summaries.reduce((n, s) => n + s.checksum, 0n),
  };
}
