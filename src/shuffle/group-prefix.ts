/**
 * The map side of secondary sort (`JobDefinition.groupBy`): emitted keys are
 * checked to be tuples long enough, and partitioned by their prefix, so that
 * every key of a reduce group lands in the same reduce task (Hadoop leaves
 * both to the user, who pairs a grouping comparator with a partitioner on the
 * "natural key"). The reduce side groups by the same prefix (`grouper.ts`).
 */
import type { Key } from '../api/types.ts';
import { ErrorCode, TsmrError } from '../errors.ts';
import { formatKey, tuplePrefixEnd } from './key-codec.ts';
import { hashPartitionRange } from './partitioner.ts';

/**
 * Checks a key a map emits for a job with `groupBy: n`, at once, before it is
 * encoded: it must be an array of at least `n` elements.
 * @throws TsmrError `TSMR_BAD_KEY` naming the key and what to emit instead.
 */
export function checkGroupKey(key: Key, n: number): void {
  if (Array.isArray(key) && key.length >= n) return;
  const what = Array.isArray(key)
    ? `the key ${formatKey(key)} has ${key.length} element${key.length === 1 ? '' : 's'}`
    : `the key ${formatKey(key)} is not an array`;
  throw new TsmrError(
    ErrorCode.BAD_KEY,
    `${what}: the job's groupBy: ${n} groups tuple keys by their first ${n} element${n === 1 ? '' : 's'}, ` +
      `so emit arrays of at least ${n} element${n === 1 ? '' : 's'} (e.g. [group, sortField])`,
  );
}

/**
 * The default partitioner of a job with `groupBy: n`: xxHash64 of the encoded
 * first `n` elements of the key, mod `numPartitions`, computed on the
 * encoded bytes (`tuplePrefixEnd`). Keys sharing the prefix share a partition.
 */
export function prefixPartition(n: number, numPartitions: number): (encodedKey: Buffer) => number {
  return (encodedKey) =>
    hashPartitionRange(encodedKey, 0, tuplePrefixEnd(encodedKey, 0, encodedKey.length, n), numPartitions);
}
