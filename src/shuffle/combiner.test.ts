import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Key } from '../api/types.ts';
import { isTsmrError } from '../errors.ts';
import { ByteWriter } from './byte-writer.ts';
import { runCombiner } from './combiner.ts';
import type { Combiner, RunCombinerOptions } from './combiner.ts';
import { groupByKey } from './grouper.ts';
import { decodeKey, encodeKey } from './key-codec.ts';
import { BufferRecordCursor, writeRecord } from './record-format.ts';
import { decodeValue, encodeValue } from './value-codec.ts';

function cursorOf(pairs: Array<[string, number]>): BufferRecordCursor {
  const w = new ByteWriter();
  for (const [k, v] of pairs) {
    const kb = encodeKey(k);
    const vb = encodeValue(v);
    writeRecord(w, kb, 0, kb.length, vb, 0, vb.length);
  }
  return new BufferRecordCursor(Buffer.from(w.view()));
}

/** Partition by first letter: a–m → 0, else 1. */
const partitionOf = (_e: Buffer, key: Key): number => (String(key) < 'n' ? 0 : 1);

function collect(extra: Partial<RunCombinerOptions> = {}): {
  out: Array<[number, Key, unknown]>;
  options: RunCombinerOptions;
} {
  const out: Array<[number, Key, unknown]> = [];
  const options: RunCombinerOptions = {
    partitionOfGroup: (g) => partitionOf(g.encodedKey, g.key),
    partitionOf,
    sink: (p, key, value, kb, ks, ke, vb, vs, ve) => {
      assert.deepEqual(decodeKey(kb, ks, ke), key);
      assert.deepEqual(decodeValue(vb, vs, ve), value);
      out.push([p, key, value]);
    },
    ...extra,
  };
  return { out, options };
}

const sum: Combiner = (groups, emit) => {
  for (const g of groups) {
    let s = 0;
    for (const v of g.values) s += v as number;
    emit(g.key, s);
  }
};

const isCombinerKey = (e: unknown): boolean => isTsmrError(e) && e.code === 'TSMR_COMBINER_KEY';

describe('runCombiner', () => {
  it('passes what a well-behaved combiner emits to the sink, with partitions', async () => {
    const { out, options } = collect();
    const n = await runCombiner(
      sum,
      groupByKey(
        cursorOf([
          ['a', 1],
          ['a', 2],
          ['b', 5],
          ['x', 1],
          ['y', 1],
          ['y', 1],
        ]),
      ),
      options,
    );
    assert.equal(n, 4);
    assert.deepEqual(out, [
      [0, 'a', 3],
      [0, 'b', 5],
      [1, 'x', 1],
      [1, 'y', 2],
    ]);
  });

  it('accepts async combiners and several values per key', async () => {
    const { out, options } = collect();
    const echo: Combiner = async (groups, emit) => {
      for (const g of groups) for await (const v of g.values) emit(g.key, v);
    };
    await runCombiner(
      echo,
      groupByKey(
        cursorOf([
          ['a', 1],
          ['a', 2],
        ]),
      ),
      options,
    );
    assert.deepEqual(out, [
      [0, 'a', 1],
      [0, 'a', 2],
    ]);
  });

  it('accepts other keys in order, rejects keys out of order with TSMR_COMBINER_KEY', async () => {
    const later: Combiner = (groups, emit) => {
      for (const g of groups) emit(`${String(g.key)}!`, 0);
    };
    const ok = collect();
    await runCombiner(
      later,
      groupByKey(
        cursorOf([
          ['a', 1],
          ['b', 1],
        ]),
      ),
      ok.options,
    );
    assert.deepEqual(
      ok.out.map((o) => o[1]),
      ['a!', 'b!'],
    );

    const backwards: Combiner = (groups, emit) => {
      for (const g of groups) emit(g.key === 'a' ? 'b' : 'a', 0);
    };
    await assert.rejects(
      runCombiner(
        backwards,
        groupByKey(
          cursorOf([
            ['a', 1],
            ['b', 1],
          ]),
        ),
        collect().options,
      ),
      isCombinerKey,
    );

    const toLaterPartition: Combiner = (groups, emit) => {
      for (const g of groups) emit(g.key === 'a' ? 'x' : g.key, 0);
    };
    await assert.rejects(
      runCombiner(
        toLaterPartition,
        groupByKey(
          cursorOf([
            ['a', 1],
            ['b', 1],
          ]),
        ),
        collect().options,
      ),
      isCombinerKey,
    );
  });

  it('with onlyPartition, rejects a key of another partition', async () => {
    const other: Combiner = (groups, emit) => {
      for (const g of groups) emit('zz', g.key);
    };
    const { options } = collect({ onlyPartition: 0, partitionOfGroup: () => 0 });
    await assert.rejects(runCombiner(other, groupByKey(cursorOf([['a', 1]])), options), isCombinerKey);
  });

  it('fails with TSMR_INTERNAL when the combiner leaves groups unread, and passes its own errors through', async () => {
    const lazy: Combiner = (groups, emit) => {
      for (const g of groups) {
        emit(g.key, 0);
        return;
      }
    };
    await assert.rejects(
      runCombiner(
        lazy,
        groupByKey(
          cursorOf([
            ['a', 1],
            ['b', 1],
          ]),
        ),
        collect().options,
      ),
      (e: unknown) => isTsmrError(e) && e.code === 'TSMR_INTERNAL',
    );
    const boom = new Error('boom');
    const throwing: Combiner = () => {
      throw boom;
    };
    await assert.rejects(
      runCombiner(throwing, groupByKey(cursorOf([['a', 1]])), collect().options),
      (e) => e === boom,
    );
  });
});
