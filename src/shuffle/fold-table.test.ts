/**
 * The folding collector (`combineValues`) against an in-memory reference:
 * random pairs, random R, tiny sort buffers forcing many spills and multi-pass
 * merges, fold = sum and fold = max; plus counters, errors and key spaces.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Key } from '../api/types.ts';
import { ErrorCode, TsmrError } from '../errors.ts';
import { FoldTableCache } from './fold-table.ts';
import type { Fold } from './fold-table.ts';
import { groupByKey } from './grouper.ts';
import { encodeKey } from './key-codec.ts';
import { MapOutputCollector } from './map-output-collector.ts';
import type { MapOutput } from './map-output.ts';
import { segmentRefOf } from './map-output.ts';
import { mergeSegments } from './merger.ts';
import { hashPartition } from './partitioner.ts';
import { anyKey, filesIn, normalizeKey, tempDir } from './test-support.ts';

const sum: Fold = (a, b) => (a as number) + (b as number);
const max: Fold = (a, b) => Math.max(a as number, b as number);

/** Keys with many repeats (a small pool) and some of every kind. */
const key = fc.oneof(
  fc.constantFrom<Key>(
    'a',
    'b',
    'the',
    'a\u0000',
    '',
    'a long word of more than 13',
    '\ud800',
    '\ud801',
    '\ud83d',
    '\ufffd',
    'a long word \ud83d',
    ['\ud83d', 'x'],
    7,
    -0,
    0,
    [1, 'x'],
    2n ** 70n,
  ),
  anyKey,
);

const scenario = fc.record({
  pairs: fc.array(fc.tuple(key, fc.integer({ min: -1000, max: 1000 })), { maxLength: 80, size: 'medium' }),
  R: fc.integer({ min: 1, max: 4 }),
  sortBufferBytes: fc.oneof(fc.integer({ min: 1, max: 600 }), fc.integer({ min: 1, max: 5000 })),
  fanIn: fc.integer({ min: 2, max: 5 }),
  fold: fc.constantFrom('sum', 'max'),
  userPartition: fc.boolean(),
});

function collector(
  dir: string,
  R: number,
  fold: Fold,
  budget: number,
  add: (n: string, k: number) => void,
  fanIn = 64,
) {
  return new MapOutputCollector({
    numPartitions: R,
    fold,
    sortBufferBytes: budget,
    dir,
    name: 'm-0_0',
    counters: { add },
    mergeFanIn: fanIn,
  });
}

describe('fold table collector', () => {
  it('collect → finish → merge equals an in-memory fold per key, keys in their partition', async (t) => {
    const root = tempDir(t);
    let run = 0;
    let manySpills = 0;
    // One cache for all runs, as a worker thread has: a run may start from the
    // fold table of the one before it (same R, default partitioner).
    const foldTableCache = new FoldTableCache();
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const dir = `${root}/${run++}`;
        mkdirSync(dir);
        const fold = s.fold === 'sum' ? sum : max;
        const counters = new Map<string, number>();
        const add = (name: string, n: number): void => void counters.set(name, (counters.get(name) ?? 0) + n);
        const c = new MapOutputCollector({
          numPartitions: s.R,
          partition: s.userPartition ? (e) => hashPartition(e, s.R) : undefined,
          fold,
          sortBufferBytes: s.sortBufferBytes,
          dir,
          name: 'm-0_0',
          counters: { add },
          mergeFanIn: s.fanIn,
          foldTableCache,
        });
        for (const [i, [k, v]] of s.pairs.entries()) {
          c.emit(k, v);
          if (i % 3 === 2 && c.full) await c.spill();
        }
        if (c.spills >= 3) manySpills++;
        const out: MapOutput = await c.finish();
        assert.deepEqual(filesIn(dir), ['m-0_0.data', 'm-0_0.index.json']);

        const got: Array<{ key: Key; value: number }> = [];
        for (let p = 0; p < s.R; p++) {
          for (const g of groupByKey(
            mergeSegments([segmentRefOf(out, p, 'm-0')], { fanIn: 2, tmpDir: dir }),
          )) {
            assert.equal(hashPartition(g.encodedKey, s.R), p, 'key in its partition');
            const values = [...g.values] as number[];
            assert.equal(values.length, 1, 'one record per key in the map output');
            got.push({ key: g.key, value: values[0] });
          }
        }
        const want = new Map<string, { e: Buffer; key: Key; value: number }>();
        for (const [k, v] of s.pairs) {
          const e = encodeKey(k);
          const name = e.toString('latin1');
          const old = want.get(name);
          if (old === undefined) want.set(name, { e, key: normalizeKey(k), value: v });
          else old.value = fold(old.value, v) as number;
        }
        const sorted = [...want.values()].sort(
          (a, b) => hashPartition(a.e, s.R) - hashPartition(b.e, s.R) || Buffer.compare(a.e, b.e),
        );
        assert.deepStrictEqual(
          got,
          sorted.map(({ key, value }) => ({ key, value })),
        );
        assert.equal(out.records, want.size);
        assert.equal(counters.get('MAP_OUTPUT_RECORDS') ?? 0, s.pairs.length);
        const bytes = s.pairs.reduce(
          (n, [k, v]) => n + encodeKey(k).length + (v >= 0 && v < 256 ? 2 : v >>> 0 === v ? 3 : 9),
          0,
        );
        assert.ok(
          (counters.get('MAP_OUTPUT_BYTES') ?? 0) <= bytes &&
            (counters.get('MAP_OUTPUT_BYTES') ?? 0) >= (s.pairs.length > 0 ? 2 * s.pairs.length : 0),
        );
        const combined =
          (counters.get('COMBINE_INPUT_RECORDS') ?? 0) - (counters.get('COMBINE_OUTPUT_RECORDS') ?? 0);
        assert.equal(combined, s.pairs.length - out.records, 'records only disappear by folding');
        assert.ok((counters.get('SPILLED_RECORDS') ?? 0) >= out.records);
      }),
      { numRuns: 150 },
    );
    assert.ok(manySpills > 20, `only ${manySpills} runs spilled 3 times or more`);
  });

  it('a task may take the fold table of the task before it: only its own keys are written, in order', async (t) => {
    const cache = new FoldTableCache();
    /** Per task: whether it got a kept table. */
    const reused: boolean[] = [];
    const take = cache.take.bind(cache);
    cache.take = (n, fold) => {
      const table = take(n, fold);
      reused.push(table !== undefined);
      return table;
    };
    const run = async (name: string, R: number, pairs: Array<[Key, number]>) => {
      const dir = `${tempDir(t)}/${name}`;
      mkdirSync(dir);
      const counters = new Map<string, number>();
      const c = new MapOutputCollector({
        numPartitions: R,
        fold: sum,
        sortBufferBytes: 1 << 20,
        dir,
        name,
        counters: { add: (n, k) => void counters.set(n, (counters.get(n) ?? 0) + k) },
        foldTableCache: cache,
      });
      for (const [k, v] of pairs) c.emit(k, v);
      const out = await c.finish();
      const got: Array<[number, Key, unknown[]]> = [];
      for (let p = 0; p < R; p++)
        for (const g of groupByKey(mergeSegments([segmentRefOf(out, p, name)], { fanIn: 2, tmpDir: dir })))
          got.push([p, g.key, [...g.values]]);
      return { got, counters };
    };
    const words = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `w${from + i}`);
    const expect = (R: number, counts: Map<Key, number>) =>
      [...counts]
        .map(([k, v]) => ({ e: encodeKey(k), k, v }))
        .sort((a, b) => hashPartition(a.e, R) - hashPartition(b.e, R) || Buffer.compare(a.e, b.e))
        .map(({ e, k, v }): [number, Key, unknown[]] => [hashPartition(e, R), k, [v]]);

    await run(
      'm-0',
      3,
      [...words(50), 'the', 'the'].map((w): [Key, number] => [w, 1]),
    );
    // 30 old keys, 10 new ones, one of them twice; 20 old keys unused.
    const second = [...words(30), ...words(10, 1000), 'w1000'].map((w): [Key, number] => [w, 2]);
    const { got, counters } = await run('m-1', 3, second);
    const want = new Map<Key, number>([...words(30), ...words(10, 1000)].map((w) => [w, 2]));
    want.set('w1000', 4);
    assert.deepEqual(got, expect(3, want));
    assert.equal(counters.get('COMBINE_OUTPUT_RECORDS'), 40);
    assert.equal(counters.get('SPILLED_RECORDS'), 40);

    // Another R cannot use the index; a task of the same R again can.
    const other = await run('m-2', 2, [['w1', 5]]);
    assert.deepEqual(other.got, expect(2, new Map([['w1', 5]])));
    const third = await run('m-3', 2, [
      ['w1', 1],
      ['x', 1],
    ]);
    assert.deepEqual(
      third.got,
      expect(
        2,
        new Map([
          ['w1', 1],
          ['x', 1],
        ]),
      ),
    );
    assert.deepEqual(reused, [false, true, false, true]);
  });

  it('a task spills at the same points and writes the same bytes whatever table it was given', async (t) => {
    // Float sums depend on how values are grouped, so spill points show in the output.
    const fold: Fold = (a, b) => (a as number) + (b as number);
    const task = async (name: string, cache: FoldTableCache, pairs: Array<[Key, number]>) => {
      const dir = `${tempDir(t)}/${name}`;
      mkdirSync(dir);
      const c = new MapOutputCollector({
        numPartitions: 2,
        fold,
        sortBufferBytes: 1500,
        dir,
        name,
        counters: { add() {} },
        foldTableCache: cache,
      });
      for (const [i, [k, v]] of pairs.entries()) {
        c.emit(k, v);
        if (i % 4 === 3 && c.full) await c.spill();
      }
      const spills = c.spills;
      const out = await c.finish();
      return { spills, data: readFileSync(out.dataPath) };
    };
    const earlier = Array.from({ length: 5 }, (_, i): [Key, number] => [`earlier-${i}`, 1]);
    // A hot key folded within runs (1e16 + 1 rounds to 1e16, 1 + 1 + 1e16 does not), among cold keys that fill the table.
    const pairs = Array.from({ length: 400 }, (_, i): [Key, number] =>
      i % 2 === 0 ? ['hot', i % 6 === 0 ? 1e16 : 1] : [`cold-${i % 90}`, 1],
    );
    const alone = await task('alone', new FoldTableCache(), pairs);
    const cache = new FoldTableCache();
    await task('first', cache, earlier);
    let kept = false;
    const take = cache.take.bind(cache);
    cache.take = (n, f) => {
      const table = take(n, f);
      kept = table !== undefined;
      return table;
    };
    const after = await task('after', cache, pairs);
    assert.ok(kept, "the second task was given the first one's table");
    assert.ok(alone.spills >= 2, `${alone.spills} spills`);
    assert.equal(after.spills, alone.spills);
    assert.deepEqual(after.data, alone.data);
  });

  it('folds non-number values, snapshotting what was emitted', async (t) => {
    const dir = tempDir(t);
    const c = collector(
      dir,
      2,
      (a, b) => [...(a as number[]), ...(b as number[])],
      1 << 20,
      () => {},
    );
    const v = [1];
    c.emit('k', v);
    v.push(2);
    c.emit('k', v);
    c.emit(['t', 1], 'x');
    const out = await c.finish();
    const got = new Map<string, unknown>();
    for (let p = 0; p < 2; p++)
      for (const g of groupByKey(mergeSegments([segmentRefOf(out, p, 'm')], { fanIn: 2, tmpDir: dir })))
        got.set(JSON.stringify(g.key), [...g.values]);
    assert.deepEqual(
      got,
      new Map<string, unknown>([
        ['"k"', [[1, 1, 2]]],
        ['["t",1]', ['x']],
      ]),
    );
  });

  it('an error of the fold is TSMR_USER_CODE naming combineValues; the pair is not added', async (t) => {
    const dir = tempDir(t);
    const c = collector(
      dir,
      1,
      (a, b) => {
        if (b === 13) throw new Error('unlucky');
        return (a as number) + (b as number);
      },
      1 << 20,
      () => {},
    );
    c.emit('a', 1);
    c.emit('b', 13); // a first value: not folded
    assert.throws(
      () => c.emit('a', 13),
      (e: unknown) =>
        e instanceof TsmrError &&
        e.code === ErrorCode.USER_CODE &&
        /combineValues\(\) threw: unlucky/.test(e.message),
    );
    c.emit('a', 2);
    const out = await c.finish();
    const groups = groupByKey(mergeSegments([segmentRefOf(out, 0, 'm')], { fanIn: 2, tmpDir: dir }));
    const got: unknown[] = [];
    for (const g of groups) got.push([g.key, [...g.values]]);
    assert.deepEqual(got, [
      ['a', [3]],
      ['b', [13]],
    ]);
  });

  it('a fold that returns a promise is TSMR_BAD_JOB, at emit and in the final merge', async (t) => {
    const promised: Fold = (a, b) => Promise.resolve((a as number) + (b as number));
    const c = collector(tempDir(t), 1, promised, 1 << 20, () => {});
    c.emit('a', 1);
    const badJob = (e: unknown) =>
      e instanceof TsmrError &&
      e.code === ErrorCode.BAD_JOB &&
      /combineValues\(\) returned a promise/.test(e.message);
    assert.throws(() => c.emit('a', 2), badJob);
    // Two spills of one key each: the final merge folds them.
    const d = collector(tempDir(t), 1, promised, 1 << 20, () => {});
    d.emit('a', 1);
    await d.spill();
    d.emit('a', 2);
    await assert.rejects(d.finish(), badJob);
  });

  it('a combiner and a fold together are refused', (t) => {
    assert.throws(
      () =>
        new MapOutputCollector({
          numPartitions: 1,
          fold: sum,
          combiner: () => {},
          sortBufferBytes: 1024,
          dir: tempDir(t),
          name: 'x',
          counters: { add() {} },
        }),
      /combiner or a fold/,
    );
  });
});
