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

  it('uses the tagged fast paths for small integers and well-formed strings', () => {
    assert.equal(encodeValue(7).toString('hex'), '0407');
    assert.equal(encodeValue(0x10203).toString('hex'), '04030201');
    assert.equal(encodeValue('hi').toString('hex'), '066869');
    assert.equal(encodeValue('\ud800')[0], 0xff);
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
    for (const hex of ['07', 'ff00']) {
      const b = Buffer.from(hex, 'hex');
      assert.throws(
        () => decodeValue(b, 0, b.length),
        (e: unknown) => isTsmrError(e) && e.code === 'TSMR_CORRUPT_DATA',
      );
    }
  });
});
