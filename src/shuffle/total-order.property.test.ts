import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Key } from '../api/types.ts';
import { encodeKey } from './key-codec.ts';
import { chooseSplitPoints } from './split-points.ts';
import { anyKey } from './test-support.ts';
import { decodeSplitPoints, encodeSplitPoints, totalOrderPartition } from './total-order-partitioner.ts';

/**
 * Keys with skew: a few heavy keys repeated many times among random ones
 * (`heavy` copies of each of up to 3 keys), in random order.
 */
const skewedKeys: fc.Arbitrary<Key[]> = fc
  .record({
    spread: fc.array(anyKey, { maxLength: 200 }),
    heavy: fc.array(anyKey, { maxLength: 3 }),
    copies: fc.integer({ min: 0, max: 300 }),
  })
  .chain(({ spread, heavy, copies }) =>
    fc.shuffledSubarray([...spread, ...heavy.flatMap((k) => Array.from({ length: copies }, () => k))], {
      minLength: spread.length + heavy.length * copies,
    }),
  );

const numPartitions = fc.integer({ min: 1, max: 40 });

function distinctCount(encoded: Buffer[]): number {
  return new Set(encoded.map((e) => e.toString('latin1'))).size;
}

describe('total order: split points and range partitioning', () => {
  it('split points are distinct sample keys in ascending order, min(R, distinct keys) − 1 of them', () => {
    fc.assert(
      fc.property(skewedKeys, numPartitions, (keys, r) => {
        const samples = keys.map(encodeKey);
        const points = chooseSplitPoints(samples, r);
        const d = distinctCount(samples);
        assert.equal(points.length, Math.max(0, Math.min(r, d) - 1));
        const sampled = new Set(samples.map((s) => s.toString('latin1')));
        for (const [i, p] of points.entries()) {
          assert.ok(sampled.has(p.toString('latin1')), 'a split point is a sample key');
          if (i > 0) assert.ok(Buffer.compare(points[i - 1]!, p) < 0, 'strictly ascending');
        }
      }),
      { numRuns: 400 },
    );
  });

  it('the partitions of sorted keys never decrease, so the partitions concatenated are sorted; equal keys share one', () => {
    fc.assert(
      fc.property(skewedKeys, skewedKeys, numPartitions, (sampleKeys, keys, r) => {
        const points = decodeSplitPoints(encodeSplitPoints(chooseSplitPoints(sampleKeys.map(encodeKey), r)));
        const partition = totalOrderPartition(points);
        const encoded = keys.map(encodeKey).sort(Buffer.compare);
        let previous = 0;
        for (const [i, key] of encoded.entries()) {
          const p = partition(key);
          assert.ok(Number.isInteger(p) && p >= 0 && p < r, `partition ${p} in [0, ${r})`);
          assert.ok(p >= previous, 'a larger key never goes to an earlier partition');
          if (i > 0 && key.equals(encoded[i - 1]!)) assert.equal(p, previous, 'equal keys, one partition');
          previous = p;
        }
      }),
      { numRuns: 400 },
    );
  });

  it('skew: the sample fills min(R, distinct keys) partitions, so a heavy key cannot pull all into one', () => {
    fc.assert(
      fc.property(skewedKeys, numPartitions, (keys, r) => {
        const samples = keys.map(encodeKey);
        const partition = totalOrderPartition(chooseSplitPoints(samples, r));
        const used = new Set(samples.map(partition));
        assert.equal(used.size, Math.min(r, distinctCount(samples)));
      }),
      { numRuns: 400 },
    );
  });

  it('distinct samples are cut into partitions within one key of n / R each', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string(), { minLength: 1, maxLength: 500 }), numPartitions, (keys, r) => {
        fc.pre(keys.length >= r);
        const samples = keys.map(encodeKey);
        const partition = totalOrderPartition(chooseSplitPoints(samples, r));
        const loads = new Array<number>(r).fill(0);
        for (const s of samples) loads[partition(s)]!++;
        const ideal = keys.length / r;
        for (const load of loads) assert.ok(Math.abs(load - ideal) <= 1, `load ${load}, ideal ${ideal}`);
      }),
      { numRuns: 300 },
    );
  });

  it('follows Hadoop at the boundaries: below the first point → 0, equal to point i → i + 1', () => {
    const points = ['b', 'd'].map(encodeKey);
    const partition = totalOrderPartition(points);
    assert.deepEqual(
      ['a', 'b', 'c', 'd', 'e'].map((k) => partition(encodeKey(k))),
      [0, 1, 1, 2, 2],
    );
    assert.equal(totalOrderPartition([])(encodeKey('x')), 0);
    assert.deepEqual(chooseSplitPoints([], 4), []);
    assert.deepEqual(chooseSplitPoints([encodeKey('a')], 1), []);
  });
});
