import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isTsmrError } from '../errors.ts';
import { ByteWriter } from './byte-writer.ts';
import { anyValue } from './test-support.ts';
import { decodeValue, encodeValue, writeValue } from './value-codec.ts';

const roundTrip = (v: unknown): unknown => {
  const b = encodeValue(v);
  return decodeValue(b, 0, b.length);
};

describe('value codec', () => {
  it('round-trips values', () => {
    fc.assert(
      fc.property(anyValue, (v) => {
        assert.deepStrictEqual(roundTrip(v), v);
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips the edge cases of the fast paths', () => {
    const cases = [0, -0, 1, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, -1, 0.5, NaN, Infinity, -Infinity];
    for (const v of cases) assert.ok(Object.is(roundTrip(v), v), String(v));
    for (const v of ['', 'a', '\u0000', '\u{1F600}', '\ud800', 'x\udc00y', 'é'.repeat(100)]) {
      assert.equal(roundTrip(v), v);
    }
    for (const v of [true, false, null, undefined, 10n ** 30n, -5n]) assert.equal(roundTrip(v), v);
    assert.deepStrictEqual(roundTrip(new Map([[1, { a: [2] }]])), new Map([[1, { a: [2] }]]));
  });

  it('uses the tagged paths for numbers, strings, bigints, plain arrays and objects', () => {
    assert.equal(encodeValue(7).toString('hex'), '0407');
    assert.equal(encodeValue('\ud800').toString('hex'), '0aeda080');
    assert.equal(encodeValue(['x\udc00', '\u{1F600}']).toString('hex'), '07050a78edb0800506f09f9880');
    assert.equal(encodeValue({ s: '\udfff' }).toString('hex'), '080173040aedbfbf');
    assert.equal(encodeValue(0x10203).toString('hex'), '04030201');
    assert.equal(encodeValue('hi').toString('hex'), '066869');
    assert.equal(encodeValue(-256n).toString('hex'), '09010100');
    assert.equal(encodeValue(0n).toString('hex'), '0900');
    assert.equal(encodeValue([1, 'a']).toString('hex'), '07020401020661');
    assert.equal(encodeValue({ n: 1 }).toString('hex'), '08016e020401');
    const long = { s: 'x'.repeat(200) };
    assert.equal(encodeValue(long)[0], 0x08);
    assert.deepEqual(roundTrip(long), long);
  });

  it('falls back to v8.serialize for what the tagged paths cannot keep', () => {
    const shared = { x: 1 };
    const sparse = [1, 2, 3];
    delete sparse[1];
    const extra = Object.assign([1, 2], { extra: true });
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    for (const v of [
      [shared, shared],
      sparse,
      extra,
      cyclic,
      new Date(0),
      new Map(),
      deep,
      { '\udfff': 1 },
    ]) {
      assert.equal(encodeValue(v)[0], 0xff);
    }
    const back = roundTrip([shared, shared]) as object[];
    assert.equal(back[0], back[1], 'structured clone keeps sharing');
    assert.deepStrictEqual(roundTrip(sparse), sparse);
    assert.deepStrictEqual(roundTrip(extra), extra);
    const c = roundTrip(cyclic) as Record<string, unknown>;
    assert.equal(c.self, c);
    assert.deepStrictEqual(roundTrip(deep), deep);
  });

  it('keeps __proto__ as an own key, and many objects in one value', () => {
    const v = JSON.parse('{"__proto__": {"a": 1}, "b": 2}') as object;
    assert.deepStrictEqual(roundTrip(v), v);
    assert.equal(Object.getPrototypeOf(roundTrip(v)), Object.prototype);
    const many = Array.from({ length: 100 }, (_, i) => ({ i }));
    assert.equal(encodeValue(many)[0], 0x07);
    assert.deepStrictEqual(roundTrip(many), many);
  });

  it('decodes a value inside a larger buffer', () => {
    const w = new ByteWriter(4);
    w.byte(0xaa);
    writeValue(w, { x: [1, 'two'] });
    const end = w.pos;
    w.byte(0xbb);
    assert.deepEqual(decodeValue(w.buf, 1, end), { x: [1, 'two'] });
  });

  it('rejects unserializable values with TSMR_BAD_VALUE and unknown tags with TSMR_CORRUPT_DATA', () => {
    for (const bad of [() => 1, Symbol('s'), { f: () => 1 }]) {
      assert.throws(
        () => encodeValue(bad),
        (e: unknown) => isTsmrError(e) && e.code === 'TSMR_BAD_VALUE',
      );
    }
    for (const hex of ['0b', 'ff00', '0700', '0705', '0801', '050000', '09']) {
      const b = Buffer.from(hex, 'hex');
      assert.throws(
        () => decodeValue(b, 0, b.length),
        (e: unknown) => isTsmrError(e) && e.code === 'TSMR_CORRUPT_DATA',
      );
    }
  });
});
