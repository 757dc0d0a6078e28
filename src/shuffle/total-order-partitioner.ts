/**
 * The map side of a total-order partition (Hadoop's `TotalOrderPartitioner`):
 * a pure function of the encoded key bytes, so it travels to any worker as
 * data (the split points, base64 in the map task message) and runs on the
 * bytes where the sort buffer holds them.
 */
import { compareKeyRange } from './key-codec.ts';

/**
 * The partition function of ascending split points `p[0] < … < p[m−1]`
 * (encoded keys, `chooseSplitPoints`): a key goes to the number of split
 * points that are `<=` it, in `[0, m]` — so keys below `p[0]` go to 0 and a
 * key equal to `p[i]` to `i + 1`, as in Hadoop. Binary search: ⌈log2(m + 1)⌉
 * byte comparisons, no allocation.
 */
export function totalOrderPartition(splitPoints: readonly Buffer[]): (encodedKey: Buffer) => number {
  const points = splitPoints.slice();
  const m = points.length;
  return (key) => {
    let lo = 0;
    let hi = m;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const p = points[mid];
      if (compareKeyRange(p, 0, p.length, key, 0, key.length) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** Split points as they travel in task messages: base64 strings. */
export function encodeSplitPoints(points: readonly Uint8Array[]): string[] {
  return points.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString('base64'));
}

/** The inverse of {@link encodeSplitPoints}. */
export function decodeSplitPoints(points: readonly string[]): Buffer[] {
  return points.map((p) => Buffer.from(p, 'base64'));
}
