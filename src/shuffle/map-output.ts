/**
 * The map output file pair (docs/architecture.md, "Record and file formats"):
 *
 * - `<dir>/<name>.data`: R segments back to back, in partition order, each
 *   sorted by key (records framed as in `record-format.ts`);
 * - `<dir>/<name>.index.json`: `{ "partitions": [{ "offset", "length",
 *   "records", "crc32" }] }`, one entry per partition (Hadoop's
 *   `file.out.index` / `SpillRecord`, as JSON).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { ErrorCode, TsmrError } from '../errors.ts';
import { ioError } from './file-io.ts';
import type { SegmentInfo } from './run-writer.ts';
import type { SegmentRef } from './segment-reader.ts';

/** What a map task leaves for the shuffle. Sizes are bytes. */
export interface MapOutput {
  /** The data file, `<dir>/<name>.data`. */
  dataPath: string;
  /** The index file, `<dir>/<name>.index.json`. */
  indexPath: string;
  /** One segment per partition, in partition order. */
  partitions: SegmentInfo[];
  /** Records in all segments (after combining). */
  records: number;
  /** Bytes of the data file. */
  bytes: number;
}

/** Writes the index file of a map output. @throws TsmrError `TSMR_IO`. */
export function writeMapOutputIndex(indexPath: string, partitions: readonly SegmentInfo[]): void {
  const text = JSON.stringify({
    partitions: partitions.map(({ offset, length, records, crc32 }) => ({ offset, length, records, crc32 })),
  });
  try {
    writeFileSync(indexPath, text);
  } catch (cause) {
    throw ioError('write', indexPath, cause);
  }
}

/**
 * Reads an index file written by {@link writeMapOutputIndex}.
 * @param source the map task that wrote it, for the error.
 * @throws TsmrError `TSMR_CORRUPT_DATA` with details `{ file, source }` when it
 *   is missing or not a valid index (the map output is then lost).
 */
export function readMapOutputIndex(indexPath: string, source: string): SegmentInfo[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(indexPath, 'utf8'));
  } catch (cause) {
    throw badIndex(indexPath, source, 'cannot read or parse it', cause);
  }
  const partitions = (parsed as { partitions?: unknown } | null)?.partitions;
  if (!Array.isArray(partitions)) throw badIndex(indexPath, source, 'no partitions array');
  let end = 0;
  return partitions.map((p: unknown, i) => {
    const { offset, length, records, crc32 } = (p ?? {}) as Record<string, unknown>;
    for (const n of [offset, length, records, crc32]) {
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
        throw badIndex(indexPath, source, `partition ${i} has a bad field`);
      }
    }
    if ((offset as number) < end) throw badIndex(indexPath, source, `partition ${i} overlaps the one before`);
    end = (offset as number) + (length as number);
    return { offset, length, records, crc32 } as SegmentInfo;
  });
}

/** The {@link SegmentRef} of `partition` in a map output. */
export function segmentRefOf(
  output: Pick<MapOutput, 'dataPath' | 'partitions'>,
  partition: number,
  source: string,
): SegmentRef {
  const s = output.partitions[partition];
  return {
    path: output.dataPath,
    offset: s.offset,
    length: s.length,
    records: s.records,
    crc32: s.crc32,
    source,
  };
}

function badIndex(file: string, source: string, reason: string, cause?: unknown): TsmrError {
  return new TsmrError(
    ErrorCode.CORRUPT_DATA,
    `map output index of ${source} (${file}) is unusable: ${reason}; its map task must run again`,
    { cause, details: { file, source, reason } },
  );
}
