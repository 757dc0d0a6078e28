/**
 * The map side and the reduce side of the shuffle together, against a simple
 * in-memory reference: collect → finish → merge each partition's segments →
 * group must equal "sort the pairs by encoded key (stably) and group them",
 * with every key in partition hashPartition(encodeKey(k), R). Tiny sort
 * buffers force many spills; small fan-ins force multi-pass merges.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Key } from '../api/types.ts';
import type { Combiner } from './combiner.ts';
import { groupByKey } from './grouper.ts';
import { encodeKey } from './key-codec.ts';
import { MapOutputCollector } from './map-output-collector.ts';
import type { MapOutput } from './map-output.ts';
import { segmentRefOf } from './map-output.ts';
import { mergeSegments } from './merger.ts';
import { hashPartition } from './partitioner.ts';
import { anyKey, filesIn, normalizeKey, tempDir } from './test-support.ts';

const syncSum: Combiner = (groups, emit) => {
  for (const g of groups) {
    let s = 0;
    for (const v of g.values) s += v as number;
    emit(g.key, s);
  }
};

const asyncSum: Combiner = async (groups, emit) => {
  for (const g of groups) {
    let s = 0;
    for await (const v of g.values) s += v as number;
    await Promise.resolve();
    emit(g.key, s);
  }
};

/** Keys with many repeats (a small pool) and some of every kind. */
const key = fc.oneof(
  fc.constantFrom<Key>('a', 'b', 'the', 'a\u0000', '', 7, -0, 0, [1, 'x'], 2n ** 70n),
  anyKey,
);

const scenario = fc.record({
  pairs: fc.array(fc.tuple(key, fc.integer({ min: -1000, max: 1000 })), { maxLength: 80, size: 'medium' }),
  R: fc.integer({ min: 1, max: 4 }),
  maps: fc.integer({ min: 1, max: 3 }),
  sortBufferBytes: fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 3000 })),
  fanIn: fc.integer({ min: 2, max: 5 }),
  callSizes: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 5 }),
  combiner: fc.constantFrom('none', 'sync', 'async'),
});

describe('shuffle end to end', () => {
  it('collect → finish → merge → group equals a stable in-memory sort and group', async (t) => {
    const root = tempDir(t);
    let run = 0;
    let multiPass = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const dir = `${root}/${run++}`;
        mkdirSync(dir);
        const combiner = s.combiner === 'none' ? undefined : s.combiner === 'sync' ? syncSum : asyncSum;
        const counters = new Map<string, number>();
        const add = (name: string, n: number): void => void counters.set(name, (counters.get(name) ?? 0) + n);

        // Map side: the pairs split into `maps` tasks, emitted in "map calls" of a few pairs.
        const outputs: MapOutput[] = [];
        const per = Math.ceil(s.pairs.length / s.maps) || 1;
        for (let m = 0; m < s.maps; m++) {
          const mine = s.pairs.slice(m * per, (m + 1) * per);
          const collector = new MapOutputCollector({
            numPartitions: s.R,
            partition: (e) => hashPartition(e, s.R),
            combiner,
            sortBufferBytes: s.sortBufferBytes,
            dir,
            name: `m-${m}_0`,
            counters: { add },
            mergeFanIn: s.fanIn,
          });
          let i = 0;
          let call = 0;
          while (i < mine.length) {
            const n = s.callSizes[call++ % s.callSizes.length];
            for (const [k, v] of mine.slice(i, i + n)) collector.emit(k, v);
            i += n;
            if (collector.full) await collector.spill();
          }
          if (collector.spills >= s.fanIn) multiPass++;
          outputs.push(await collector.finish());
        }
        assert.deepEqual(
          filesIn(dir),
          outputs.flatMap((_, m) => [`m-${m}_0.data`, `m-${m}_0.index.json`]).sort(),
          'only the map outputs are left',
        );

        // Reduce side.
        const got: Array<{ key: Key; values: number[] }> = [];
        let reduceRecords = 0;
        for (let p = 0; p < s.R; p++) {
          const refs = outputs.map((o, m) => segmentRefOf(o, p, `m-${m}`));
          const groups = groupByKey(mergeSegments(refs, { fanIn: s.fanIn, tmpDir: dir }));
          for (const g of groups) {
            assert.equal(hashPartition(g.encodedKey, s.R), p, 'key in its partition');
            got.push({ key: g.key, values: [...g.values] as number[] });
          }
          reduceRecords += groups.records;
        }
        assert.equal(
          reduceRecords,
          outputs.reduce((n, o) => n + o.records, 0),
          'map output records = reduce input records',
        );

        // Reference: stable sort by encoded key, group; in partition order.
        const sorted = s.pairs
          .map(([k, v], i) => ({ e: encodeKey(k), k, v, i }))
          .sort(
            (a, b) =>
              hashPartition(a.e, s.R) - hashPartition(b.e, s.R) || Buffer.compare(a.e, b.e) || a.i - b.i,
          );
        const want: Array<{ key: Key; values: number[] }> = [];
        for (let j = 0; j < sorted.length; j++) {
          if (j > 0 && sorted[j].e.equals(sorted[j - 1].e)) want[want.length - 1].values.push(sorted[j].v);
          else want.push({ key: normalizeKey(sorted[j].k), values: [sorted[j].v] });
        }
        if (combiner === undefined) {
          assert.deepStrictEqual(got, want);
        } else {
          const total = (g: { values: number[] }): number => g.values.reduce((a, b) => a + b, 0);
          assert.deepStrictEqual(
            got.map((g) => ({ key: g.key, sum: total(g) })),
            want.map((g) => ({ key: g.key, sum: total(g) })),
          );
          const combined =
            (counters.get('COMBINE_INPUT_RECORDS') ?? 0) - (counters.get('COMBINE_OUTPUT_RECORDS') ?? 0);
          assert.equal(combined, s.pairs.length - reduceRecords, 'records only disappear by combining');
        }
        assert.equal(counters.get('MAP_OUTPUT_RECORDS') ?? 0, s.pairs.length);
        assert.ok((counters.get('SPILLED_RECORDS') ?? 0) >= reduceRecords);
      }),
      { numRuns: 100 },
    );
    assert.ok(multiPass > 30, `only ${multiPass} map tasks needed a multi-pass merge`);
  });
});
