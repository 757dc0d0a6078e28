import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Key } from '../api/types.ts';
import { isTsmrError } from '../errors.ts';
import { CombineTable } from './combine-table.ts';
import type { LogPool } from './combine-table.ts';
import { decodeKey, encodeKey } from './key-codec.ts';
import { hashPartition } from './partitioner.ts';
import { KeySorter } from './sort-index.ts';
import { anyKey, anyValue, normalizeKey } from './test-support.ts';
import { encodeValue } from './value-codec.ts';

const R = 3;
const partition = (e: Buffer): number => hashPartition(e, R);

function groupsOf(table: CombineTable): Array<{ key: Key; partition: number; values: unknown[] }> {
  return [...table.groups(table.sortedIds(new KeySorter()))].map((g) => ({
    key: g.key,
    partition: g.partition,
    values: [...g.values],
  }));
}

describe('CombineTable', () => {
  it('collects values per key, keys in (partition, key) order, each with its partition', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(anyKey, anyValue), { maxLength: 40 }), (pairs) => {
        const table = new CombineTable(R, partition);
        let bytes = 0;
        for (const [k, v] of pairs) {
          table.add(k, v);
          bytes += encodeKey(k).length + encodeValue(v).length;
        }
        assert.equal(table.emittedBytes, bytes);
        assert.equal(table.valueCount, pairs.length);
        const expected = new Map<string, { key: Key; partition: number; values: unknown[] }>();
        for (const [k, v] of pairs) {
          const e = encodeKey(k);
          const name = e.toString('hex');
          const entry = expected.get(name) ?? { key: normalizeKey(k), partition: partition(e), values: [] };
          entry.values.push(v);
          expected.set(name, entry);
        }
        const want = [...expected.entries()]
          .sort(
            ([a, x], [b, y]) =>
              x.partition - y.partition || Buffer.compare(Buffer.from(a, 'hex'), Buffer.from(b, 'hex')),
          )
          .map(([, g]) => g);
        assert.deepStrictEqual(groupsOf(table), want);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps key spaces apart: "1", 1, 1n, true, [1], bytes', () => {
    const table = new CombineTable(1, () => 0);
    const keys: Key[] = [
      '1',
      1,
      1n,
      true,
      [1],
      ['1'],
      new Uint8Array([0x31]),
      null,
      -0,
      0,
      Number.NaN,
      -Number.NaN,
    ];
    for (const k of keys) table.add(k, 1);
    assert.equal(table.size, keys.length - 2);
    const groups = groupsOf(table);
    assert.deepEqual(
      groups.map((g) => g.values.length),
      groups.map((g) => (g.key === 0 || Number.isNaN(g.key) ? 2 : 1)),
    );
  });

  it('keeps strings with lone surrogates as keys of their own, in WTF-8 order', () => {
    const table = new CombineTable(1, () => 0);
    const long = 'a long key of more than 13 units \ud83d';
    for (const [k, v] of [
      ['\ud800', 1],
      ['\udfff', 2],
      ['\ufffd', 3],
      ['\ud800', 4],
      ['\ud83d', 5],
      [long, 6],
      ['\ud83d\ude00', 7],
      [long.slice(0, -1), 8],
    ] as const) {
      table.add(k, v);
    }
    assert.deepEqual(groupsOf(table), [
      { key: long.slice(0, -1), partition: 0, values: [8] },
      { key: long, partition: 0, values: [6] },
      { key: '\ud800', partition: 0, values: [1, 4] },
      { key: '\ud83d', partition: 0, values: [5] },
      { key: '\udfff', partition: 0, values: [2] },
      { key: '\ufffd', partition: 0, values: [3] },
      { key: '\ud83d\ude00', partition: 0, values: [7] },
    ]);
  });

  it('snapshots object values at add time, and keeps long strings', () => {
    const table = new CombineTable(1, () => 0);
    const v = { n: 1 };
    table.add('k', v);
    v.n = 2;
    table.add('k', 'a long string value, longer than a slice');
    assert.deepEqual(groupsOf(table)[0].values, [{ n: 1 }, 'a long string value, longer than a slice']);
  });

  it('adds nothing when a key, value or partition is bad', () => {
    const table = new CombineTable(2, (_e, k) => (k === 'bad' ? 5 : 0) as number);
    const checked = new CombineTable(2, (e, k) => {
      if (k === 'bad') throw Object.assign(new Error('no'), { code: 'X' });
      return partition(e) % 2;
    });
    for (const t of [table, checked]) {
      t.add('ok', 1);
      const before = { size: t.size, values: t.valueCount, bytes: t.bytes };
      assert.throws(
        () => t.add('ok', () => 1),
        (e: unknown) => isTsmrError(e) && e.code === 'TSMR_BAD_VALUE',
      );
      assert.throws(
        () => t.add({} as Key, 1),
        (e: unknown) => isTsmrError(e) && e.code === 'TSMR_BAD_KEY',
      );
      assert.throws(() => t.add(Symbol() as unknown as Key, { big: 1n }));
      assert.deepEqual({ size: t.size, values: t.valueCount, bytes: t.bytes }, before);
    }
    assert.throws(() => checked.add('bad', { x: 1 }), /no/);
    assert.equal(checked.size, 1);
  });

  it('reuses pooled log arrays without leaking old entries, and keeps very large values', () => {
    const pool: LogPool = {};
    const first = new CombineTable(1, undefined, pool);
    for (let i = 0; i < 5000; i++) first.add(`k${i % 7}`, i % 2 === 0 ? i : { i });
    assert.equal(groupsOf(first).length, 7);
    first.release();
    assert.ok(pool.ids !== undefined && pool.payload !== undefined && pool.kinds !== undefined);
    const second = new CombineTable(1, undefined, pool);
    for (let i = 0; i < 3000; i++) second.add('n', i);
    second.add('n', 'text');
    const big = 'x'.repeat(2 ** 21 + 5);
    second.add('big', big);
    const groups = groupsOf(second);
    assert.deepEqual(groups[1].values, [...Array.from({ length: 3000 }, (_, i) => i), 'text']);
    assert.equal(groups[0].key, 'big');
    assert.equal(groups[0].values[0], big);
  });

  it('addCombined appends sorted output; writeTo-ready ids are in order', () => {
    const source = new CombineTable(R, partition);
    for (const k of ['b', 'a', 'c', 'a', 'b']) source.add(k, { k });
    const next = new CombineTable(R, partition);
    for (const g of source.groups(source.sortedIds(new KeySorter()))) {
      for (const v of g.values) {
        const kb = g.encodedKey;
        const vb = encodeValue(v);
        next.addCombined(g.partition, g.key, v, kb, 0, kb.length, vb, 0, vb.length);
      }
    }
    assert.deepEqual(groupsOf(next), groupsOf(source));
    assert.deepEqual(
      [...next.groups(undefined)].map((g) => decodeKey(g.encodedKey)),
      groupsOf(source).map((g) => g.key),
    );
  });
});
