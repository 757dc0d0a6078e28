import assert from 'node:assert/strict';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import type { Key } from '../api/types.ts';
import { ByteWriter } from './byte-writer.ts';
import { groupByKey } from './grouper.ts';
import { encodeKey, writeKey } from './key-codec.ts';
import { BufferRecordCursor, writeRecord } from './record-format.ts';
import { openSegment } from './segment-reader.ts';
import { normalizeKey, tempDir } from './test-support.ts';
import { isTsmrError } from '../errors.ts';
import { writeValue } from './value-codec.ts';

/** A cursor over (key, value) pairs, sorted by encoded key (stable). */
function cursorOf(pairs: Array<[Key, unknown]>): BufferRecordCursor {
  const sorted = pairs
    .map(([k, v], i) => ({ k: encodeKey(k), v, i }))
    .sort((a, b) => Buffer.compare(a.k, b.k) || a.i - b.i);
  const w = new ByteWriter();
  const scratch = new ByteWriter();
  for (const { k, v } of sorted) {
    scratch.reset();
    writeValue(scratch, v);
    writeRecord(w, k, 0, k.length, scratch.buf, 0, scratch.pos);
  }
  return new BufferRecordCursor(Buffer.from(w.view()));
}

describe('groupByKey', () => {
  it('groups consecutive equal keys, values in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom<Key>('a', 'b', 1, ['a'], 'a\u0000'), fc.integer())),
        (pairs) => {
          const expected = new Map<string, unknown[]>();
          for (const [k, v] of [...pairs].sort((a, b) => Buffer.compare(encodeKey(a[0]), encodeKey(b[0])))) {
            const name = encodeKey(k).toString('hex');
            expected.set(name, [...(expected.get(name) ?? []), v]);
          }
          const groups = groupByKey(cursorOf(pairs));
          const got = new Map<string, unknown[]>();
          for (const g of groups) {
            assert.deepEqual(encodeKey(g.key), g.encodedKey);
            got.set(g.encodedKey.toString('hex'), [...g.values]);
          }
          assert.deepEqual([...got], [...expected]);
          assert.equal(groups.groups, expected.size);
          assert.equal(groups.records, pairs.length);
        },
      ),
    );
  });

  it('skips the values a consumer did not read, whether it broke off or never started', () => {
    const pairs: Array<[Key, unknown]> = [];
    for (const k of ['a', 'b', 'c', 'd']) for (let i = 0; i < 5; i++) pairs.push([k, `${k}${i}`]);
    const groups = groupByKey(cursorOf(pairs));
    const seen: Array<[Key, unknown[]]> = [];
    for (const g of groups) {
      const got: unknown[] = [];
      if (g.key === 'a') {
        for (const v of g.values) {
          got.push(v);
          if (got.length === 2) break;
        }
        // A second pass yields nothing.
        for (const v of g.values) got.push(v);
      } else if (g.key === 'c') {
        got.push(...g.values);
      }
      seen.push([g.key, got]);
    }
    assert.deepEqual(seen, [
      ['a', ['a0', 'a1']],
      ['b', []],
      ['c', ['c0', 'c1', 'c2', 'c3', 'c4']],
      ['d', []],
    ]);
    assert.equal(groups.records, 20);
  });

  it('iterates values asynchronously too, and a group left behind yields nothing', async () => {
    const groups = groupByKey(
      cursorOf([
        ['x', 1],
        ['x', 2],
        ['y', 3],
      ]),
    );
    const it = groups[Symbol.iterator]();
    const x = it.next().value!;
    const got: unknown[] = [];
    for await (const v of x.values) got.push(v);
    assert.deepEqual(got, [1, 2]);
    const y = it.next().value!;
    assert.equal(y.key, 'y');
    assert.deepEqual([...x.values], []);
    assert.deepEqual([...y.values], [3]);
    assert.equal(it.next().done, true);
    assert.equal(it.next().done, true);
  });

  it('gives no groups for an empty cursor', () => {
    const groups = groupByKey(cursorOf([]));
    assert.deepEqual([...groups], []);
    assert.equal(groups.groups, 0);
  });

  it('streams ten million values of one key in bounded memory', (t) => {
    const path = join(tempDir(t), 'big');
    // 10^7 records "k" → i % 200, written a million at a time.
    const perChunk = 1_000_000;
    const chunk = new ByteWriter(perChunk * 7);
    const key = new ByteWriter();
    writeKey(key, 'k');
    const value = new ByteWriter();
    let chunkSum = 0;
    for (let i = 0; i < perChunk; i++) {
      value.reset();
      writeValue(value, i % 200);
      chunkSum += i % 200;
      writeRecord(chunk, key.buf, 0, key.pos, value.buf, 0, value.pos);
    }
    const fd = openSync(path, 'w');
    let crc = 0;
    for (let c = 0; c < 10; c++) {
      writeSync(fd, chunk.buf, 0, chunk.pos);
      crc = crc32(chunk.view(), crc);
    }
    closeSync(fd);
    const n = 10 * perChunk;
    const ref = { path, offset: 0, length: 10 * chunk.pos, records: n, crc32: crc, source: 'm-big' };

    const base = process.memoryUsage().heapUsed;
    let peak = 0;
    let sum = 0;
    let count = 0;
    const groups = groupByKey(openSegment(ref));
    for (const g of groups) {
      assert.equal(g.key, 'k');
      for (const v of g.values) {
        sum += v as number;
        if (++count % 1_000_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - base);
      }
    }
    assert.equal(count, n);
    assert.equal(sum, 10 * chunkSum);
    assert.equal(groups.groups, 1);
    // Holding the values would take 80 MB or more.
    assert.ok(peak < 40 * 2 ** 20, `heap grew by ${(peak / 2 ** 20).toFixed(1)} MiB`);
  });

  describe('with groupBy (secondary sort)', () => {
    const tupleKey = fc.tuple(
      fc.constantFrom<Key>('a', 'a\u0000', '', new Uint8Array(0), new Uint8Array(1), 1),
      fc.constantFrom<Key>(2, 1, 'x', null, ['n']),
      fc.integer({ min: 0, max: 3 }),
    );

    it('groups keys by their first n elements; keys and values come in key order', () => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(tupleKey, fc.integer())),
          fc.integer({ min: 1, max: 3 }),
          (pairs, n) => {
            const sorted = pairs
              .map(([k, v], i) => ({ k, v, e: encodeKey(k), i }))
              .sort((a, b) => Buffer.compare(a.e, b.e) || a.i - b.i);
            const expected = new Map<string, Array<[Key, unknown]>>();
            for (const { k, v } of sorted) {
              const name = encodeKey(k.slice(0, n)).toString('hex');
              expected.set(name, [...(expected.get(name) ?? []), [normalizeKey(k), v]]);
            }
            const got = new Map<string, Array<[Key, unknown]>>();
            const groups = groupByKey(cursorOf(pairs), { groupBy: n });
            for (const g of groups) {
              const name = encodeKey((g.key as Key[]).slice(0, n)).toString('hex');
              assert.ok(!got.has(name), 'one group per prefix');
              const entries = [...g.values.entries()];
              assert.deepEqual(entries[0]?.[0], g.key, "the group's key is its first full key");
              got.set(name, entries);
            }
            assert.deepEqual([...got], [...expected]);
            assert.equal(groups.records, pairs.length);
          },
        ),
        { numRuns: 500 },
      );
    });

    it('shares one pass between values and entries, synchronously and asynchronously', async () => {
      const pairs: Array<[Key, unknown]> = [
        [['d', 3], 'c'],
        [['d', 1], 'a'],
        [['d', 2], 'b'],
        [['e', 0], 'z'],
      ];
      const [d, e] = groupByKey(cursorOf(pairs), { groupBy: 1 });
      // Both groups were taken, so d's values are gone; take them again in order.
      assert.deepEqual([...d!.values], []);
      assert.deepEqual([...e!.values.entries()], [[['e', 0], 'z']]);
      const again = groupByKey(cursorOf(pairs), { groupBy: 1 })[Symbol.iterator]();
      const first = again.next().value!;
      const values = first.values[Symbol.iterator]();
      assert.deepEqual(values.next().value, 'a');
      const rest: Array<[Key, unknown]> = [];
      for await (const entry of first.values.entries()) rest.push(entry);
      assert.deepEqual(rest, [
        [['d', 2], 'b'],
        [['d', 3], 'c'],
      ]);
      assert.equal(values.next().done, true);
    });

    it('throws TSMR_BAD_KEY at the first key that is not a long enough tuple', () => {
      const groups = groupByKey(
        cursorOf([
          [['a', 1], 1],
          [['b'], 2],
        ]),
        { groupBy: 2 },
      );
      const it = groups[Symbol.iterator]();
      assert.deepEqual(it.next().value!.key, ['a', 1]);
      assert.throws(
        () => it.next(),
        (e: unknown) =>
          isTsmrError(e) &&
          e.code === 'TSMR_BAD_KEY' &&
          /\["b"\] has 1 element, fewer than 2/.test(e.message),
      );
    });

    it('without groupBy, entries pair every value with the group key', () => {
      const [g] = groupByKey(
        cursorOf([
          ['k', 1],
          ['k', 2],
        ]),
      );
      assert.deepEqual(
        [...g!.values.entries()],
        [
          ['k', 1],
          ['k', 2],
        ],
      );
    });
  });
});
