import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Key } from '../api/types.ts';
import { isTsmrError } from '../errors.ts';
import type { Combiner } from './combiner.ts';
import { groupByKey } from './grouper.ts';
import { encodeKey } from './key-codec.ts';
import { MapOutputCollector } from './map-output-collector.ts';
import type { MapOutputCollectorOptions } from './map-output-collector.ts';
import { readMapOutputIndex, segmentRefOf } from './map-output.ts';
import type { MapOutput } from './map-output.ts';
import { mergeSegments } from './merger.ts';
import { hashPartition } from './partitioner.ts';
import { filesIn, tempDir } from './test-support.ts';
import { encodeValue } from './value-codec.ts';

const sum: Combiner = (groups, emit) => {
  for (const g of groups) {
    let s = 0;
    for (const v of g.values) s += v as number;
    emit(g.key, s);
  }
};

function setup(
  t: { after(fn: () => void): void },
  options: Partial<MapOutputCollectorOptions> = {},
): { collector: MapOutputCollector; counters: Map<string, number>; dir: string } {
  const dir = tempDir(t);
  const counters = new Map<string, number>();
  const R = options.numPartitions ?? 3;
  const collector = new MapOutputCollector({
    numPartitions: R,
    partition: (e) => hashPartition(e, R),
    sortBufferBytes: 1 << 20,
    dir,
    name: 'm-00003_0',
    counters: { add: (name, n) => void counters.set(name, (counters.get(name) ?? 0) + n) },
    ...options,
  });
  return { collector, counters, dir };
}

/** Every (key, values) of a map output, partition by partition. */
function readOutput(out: MapOutput): Array<[number, Key, unknown[]]> {
  const result: Array<[number, Key, unknown[]]> = [];
  out.partitions.forEach((_, p) => {
    for (const g of groupByKey(mergeSegments([segmentRefOf(out, p, 'm-3')], { fanIn: 2, tmpDir: '/tmp' }))) {
      result.push([p, g.key, [...g.values]]);
    }
  });
  return result;
}

const isCode = (code: string) => (e: unknown) => isTsmrError(e) && e.code === code;

describe('MapOutputCollector', () => {
  it('writes an empty output with R empty segments when nothing is emitted', async (t) => {
    const { collector, dir } = setup(t);
    const out = await collector.finish();
    assert.deepEqual(filesIn(dir), ['m-00003_0.data', 'm-00003_0.index.json']);
    assert.equal(out.records, 0);
    assert.equal(out.bytes, 0);
    assert.deepEqual(out.partitions, Array(3).fill({ offset: 0, length: 0, records: 0, crc32: 0 }));
  });

  it('renames a single spill into the output, and writes a matching index', async (t) => {
    const { collector, counters, dir } = setup(t);
    const pairs: Array<[Key, unknown]> = [
      ['b', 1],
      ['a', { x: 1 }],
      [7, 'seven'],
      ['a', 2],
      [[1, 'z'], null],
    ];
    for (const [k, v] of pairs) collector.emit(k, v);
    assert.equal(collector.full, false);
    const out = await collector.finish();
    assert.equal(collector.spills, 1);
    assert.deepEqual(filesIn(dir), ['m-00003_0.data', 'm-00003_0.index.json']);
    assert.deepEqual(readMapOutputIndex(out.indexPath, 'm-3'), out.partitions);
    assert.deepEqual(JSON.parse(readFileSync(out.indexPath, 'utf8')), { partitions: out.partitions });
    assert.equal(out.records, 5);
    assert.equal(out.bytes, readFileSync(out.dataPath).length);
    const got = readOutput(out);
    for (const [p, k] of got) assert.equal(p, hashPartition(encodeKey(k), 3));
    assert.deepEqual(
      got
        .map(([, k, v]) => [k, v])
        .sort((a, b) => Buffer.compare(encodeKey(a[0] as Key), encodeKey(b[0] as Key))),
      [
        [7, ['seven']],
        ['a', [{ x: 1 }, 2]],
        ['b', [1]],
        [[1, 'z'], [null]],
      ],
    );
    const bytes = pairs.reduce((n, [k, v]) => n + encodeKey(k).length + encodeValue(v).length, 0);
    assert.deepEqual(Object.fromEntries(counters), {
      MAP_OUTPUT_RECORDS: 5,
      MAP_OUTPUT_BYTES: bytes,
      SPILLED_RECORDS: 5,
    });
  });

  it('spills when full, merges the spills and deletes them', async (t) => {
    const { collector, counters, dir } = setup(t, { sortBufferBytes: 500, mergeFanIn: 3 });
    let expected = 0;
    for (let i = 0; i < 1000; i++) {
      collector.emit(`k${i % 37}`, i);
      expected += i;
      if (collector.full) await collector.spill();
    }
    assert.ok(collector.spills > 10);
    assert.ok(filesIn(dir).some((f) => f.startsWith('m-00003_0.spill')));
    const out = await collector.finish();
    assert.deepEqual(filesIn(dir), ['m-00003_0.data', 'm-00003_0.index.json']);
    const got = readOutput(out);
    assert.equal(got.length, 37);
    assert.equal(
      got.flatMap(([, , v]) => v as number[]).reduce((a, b) => a + b, 0),
      expected,
    );
    // Emit order is kept within a key.
    for (const [, , v] of got)
      assert.deepEqual(
        v,
        [...(v as number[])].sort((a, b) => a - b),
      );
    assert.equal(counters.get('MAP_OUTPUT_RECORDS'), 1000);
    assert.ok((counters.get('SPILLED_RECORDS') ?? 0) >= 2000, 'spill runs and the merged output');
  });

  it('merges the records left in the sort buffer with the spill runs, without spilling them', async (t) => {
    const { collector, counters, dir } = setup(t, { sortBufferBytes: 4000 });
    for (let i = 0; i < 1000; i++) {
      collector.emit(`k${i % 37}`, i);
      if (collector.full) await collector.spill();
    }
    const spills = collector.spills;
    const inRuns = counters.get('SPILLED_RECORDS') ?? 0;
    assert.ok(spills >= 2 && inRuns > 0 && inRuns < 1000, `${spills} spills of ${inRuns} records`);
    const out = await collector.finish();
    assert.equal(collector.spills, spills, 'no spill run for the records left in memory');
    assert.deepEqual(filesIn(dir), ['m-00003_0.data', 'm-00003_0.index.json']);
    assert.equal(counters.get('SPILLED_RECORDS'), inRuns + 1000, 'the runs, then the merged output');
    assert.equal(out.records, 1000);
    // Every value, in emit order within its key, across the runs and the buffer.
    const got = new Map(readOutput(out).map(([, k, v]) => [k, v]));
    assert.equal(got.size, 37);
    for (let j = 0; j < 37; j++) {
      const expected = Array.from({ length: Math.ceil((1000 - j) / 37) }, (_, n) => j + 37 * n);
      assert.deepEqual(got.get(`k${j}`), expected);
    }
  });

  it('with a combiner, compacts in memory: word count does not spill before finish', async (t) => {
    const { collector, counters } = setup(t, { combiner: sum, sortBufferBytes: 64 * 1024 });
    const words = ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog'];
    let compactions = 0;
    for (let i = 0; i < 100_000; i++) {
      collector.emit(words[i % words.length], 1);
      if (collector.full) {
        await collector.spill();
        compactions++;
      }
    }
    assert.ok(compactions > 5);
    assert.equal(collector.spills, 0);
    const out = await collector.finish();
    assert.equal(out.records, words.length);
    assert.deepEqual(
      readOutput(out)
        .map(([, k, v]) => [k, v])
        .sort(),
      words.map((w) => [w, [12_500]]).sort(),
    );
    assert.equal(
      counters.get('COMBINE_INPUT_RECORDS')! - counters.get('COMBINE_OUTPUT_RECORDS')!,
      100_000 - words.length,
    );
    assert.equal(counters.get('MAP_OUTPUT_RECORDS'), 100_000);
    assert.equal(counters.get('SPILLED_RECORDS'), words.length);
  });

  it('with a combiner and mostly distinct keys, spills and combines again at the final merge', async (t) => {
    const { collector, counters, dir } = setup(t, { combiner: sum, sortBufferBytes: 4096, mergeFanIn: 4 });
    for (let i = 0; i < 2000; i++) {
      collector.emit(`key-${i % 500}`, 1);
      if (collector.full) await collector.spill();
    }
    assert.ok(collector.spills >= 2);
    const out = await collector.finish();
    assert.deepEqual(filesIn(dir), ['m-00003_0.data', 'm-00003_0.index.json']);
    assert.equal(out.records, 500, 'the final merge combined every key into one record');
    for (const [, , v] of readOutput(out)) assert.deepEqual(v, [4]);
    const c = Object.fromEntries(counters);
    assert.equal(c.COMBINE_INPUT_RECORDS - c.COMBINE_OUTPUT_RECORDS, 2000 - 500);
  });

  it('rejects partitions outside [0, R) or not integers with TSMR_BAD_PARTITION, and adds nothing', async (t) => {
    for (const bad of [-1, 3, 1.5, Number.NaN, '1' as unknown as number, 2 ** 32]) {
      for (const combiner of [undefined, sum]) {
        const { collector } = setup(t, { partition: () => bad, combiner });
        assert.throws(() => collector.emit('k', 1), isCode('TSMR_BAD_PARTITION'));
        const out = await collector.finish();
        assert.equal(out.records, 0);
      }
    }
  });

  it('does not call the partition function when R is 1', async (t) => {
    const { collector } = setup(t, {
      numPartitions: 1,
      partition: () => {
        throw new Error('called');
      },
    });
    collector.emit('k', 1);
    assert.equal((await collector.finish()).records, 1);
  });

  it('snapshots emitted objects (the arena path encodes at once)', async (t) => {
    const { collector } = setup(t, { numPartitions: 1 });
    const v = { n: 1 };
    collector.emit('k', v);
    v.n = 2;
    assert.deepEqual(readOutput(await collector.finish()), [[0, 'k', [{ n: 1 }]]]);
  });

  it('reports a combiner that breaks key order as TSMR_COMBINER_KEY and deletes its files', async (t) => {
    const backwards: Combiner = (groups, emit) => {
      let n = 0;
      for (const g of groups) emit(`${1000 - n++}`, g.key);
    };
    const { collector, dir } = setup(t, { combiner: backwards, numPartitions: 1 });
    for (const k of ['a', 'b', 'c']) collector.emit(k, 1);
    await assert.rejects(collector.finish(), isCode('TSMR_COMBINER_KEY'));
    assert.deepEqual(filesIn(dir), []);
  });

  it('refuses emit/spill/finish while busy or after finish (TSMR_INTERNAL), and validates options', async (t) => {
    let release: () => void = () => {};
    const slow: Combiner = async (groups, emit) => {
      await new Promise<void>((resolve) => (release = resolve));
      sum(groups, emit);
    };
    const { collector } = setup(t, { combiner: slow });
    collector.emit('k', 1);
    const finishing = collector.finish();
    assert.throws(() => collector.emit('k', 1), isCode('TSMR_INTERNAL'));
    await assert.rejects(collector.spill(), isCode('TSMR_INTERNAL'));
    release();
    await finishing;
    assert.throws(() => collector.emit('k', 1), isCode('TSMR_INTERNAL'));
    for (const bad of [{ numPartitions: 0 }, { sortBufferBytes: 0 }, { mergeFanIn: 1 }]) {
      assert.throws(() => setup(t, bad), isCode('TSMR_USAGE'));
    }
  });

  it('abort() deletes spills and outputs', async (t) => {
    const { collector, dir } = setup(t, { sortBufferBytes: 100 });
    for (let i = 0; i < 50; i++) {
      collector.emit(i, i);
      if (collector.full) await collector.spill();
    }
    assert.ok(filesIn(dir).length > 1);
    collector.abort();
    assert.deepEqual(filesIn(dir), []);
  });
});
