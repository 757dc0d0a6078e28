/**
 * Choosing the split points of a total-order partition from sampled keys
 * (Hadoop's `InputSampler.writePartitionFile`, made to keep split points
 * distinct when keys repeat).
 *
 * Keys are encoded keys (`key-codec.ts`), compared as unsigned bytes: the
 * order of the sort, so ranges of split points agree with it.
 */

/**
 * Picks up to `numPartitions − 1` split points from `samples` (encoded keys,
 * any order, repeats allowed): strictly increasing, each a sample key, cutting
 * the sorted sample into `numPartitions` ranges as even as its repeats allow.
 *
 * With `P` distinct sample keys there are `min(numPartitions, P) − 1` points:
 * the smallest sample key is never one (partition 0 would get none of the
 * sample), and a key met many times is one point at most, so partitions
 * with samples are `min(numPartitions, P)` — a heavy key fills one partition
 * but does not pull the others into it. Point `i` is the distinct key whose
 * count of smaller samples is closest to `i × n / numPartitions` (`n`
 * samples), after the previous point and leaving a key for each point still
 * to choose.
 *
 * @returns new Buffers, ascending; `[]` for `numPartitions <= 1` or no samples.
 */
export function chooseSplitPoints(samples: readonly Uint8Array[], numPartitions: number): Buffer[] {
  const n = samples.length;
  if (numPartitions <= 1 || n === 0) return [];
  // latin1 strings have one code unit per byte, so their default sort is byte order.
  const sorted = samples
    .map((s) => Buffer.from(s.buffer, s.byteOffset, s.byteLength).toString('latin1'))
    .sort();
  const distinct: string[] = [];
  /** before[j]: samples smaller than distinct[j]. */
  const before: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) {
      distinct.push(sorted[i]);
      before.push(i);
    }
  }
  const d = distinct.length;
  const points = Math.min(numPartitions - 1, d - 1);
  const out: Buffer[] = [];
  let last = 0;
  for (let i = 1; i <= points; i++) {
    const target = (i * n) / numPartitions;
    const lo = last + 1;
    const hi = d - 1 - (points - i);
    let j = lowerBound(before, target, lo, d);
    if (j === d || (j > lo && target - before[j - 1] <= before[j] - target)) j--;
    j = Math.min(Math.max(j, lo), hi);
    out.push(Buffer.from(distinct[j], 'latin1'));
    last = j;
  }
  return out;
}

/** The first index in `[lo, hi)` whose value is `>= target`, or `hi`. */
function lowerBound(values: readonly number[], target: number, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
