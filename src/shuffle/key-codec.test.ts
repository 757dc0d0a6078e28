import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Key } from '../api/types.ts';
import { isTsmrError } from '../errors.ts';
import { ByteWriter } from './byte-writer.ts';
import {
  compareKeyRange,
  decodeKey,
  encodeKey,
  hasTuplePrefix,
  keyRangeEquals,
  tuplePrefixEnd,
  writeKey,
} from './key-codec.ts';
import { anyJsString, anyKey, keyString, normalizeKey, referenceCompare } from './test-support.ts';

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);
const wellFormed = fc.oneof(keyString, anyJsString).filter((s) => s.isWellFormed());

describe('key codec', () => {
  it('round-trips every key (with -0 → 0)', () => {
    fc.assert(
      fc.property(anyKey, (key) => {
        assert.deepStrictEqual(decodeKey(encodeKey(key)), normalizeKey(key));
      }),
      { numRuns: 2000 },
    );
  });

  it('orders encodings as the documented key order', () => {
    fc.assert(
      fc.property(anyKey, anyKey, (a, b) => {
        assert.equal(sign(Buffer.compare(encodeKey(a), encodeKey(b))), sign(referenceCompare(a, b)));
      }),
      { numRuns: 5000 },
    );
  });

  it('orders well-formed strings by UTF-8 bytes, also inside arrays', () => {
    fc.assert(
      fc.property(wellFormed, wellFormed, (a, b) => {
        const bytes = sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
        assert.equal(sign(Buffer.compare(encodeKey(a), encodeKey(b))), bytes);
        assert.equal(sign(Buffer.compare(encodeKey([a, 1]), encodeKey([b, 0]))), bytes || 1);
      }),
      { numRuns: 2000 },
    );
  });

  it('encodes a well-formed string as its UTF-8 bytes, byte for byte', () => {
    fc.assert(
      fc.property(wellFormed, (s) => {
        assert.deepEqual(encodeKey(s), Buffer.concat([Buffer.of(0x07), Buffer.from(s, 'utf8')]));
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps every JS string, lone surrogates included: round trip, distinct bytes, WTF-8 order', () => {
    fc.assert(
      fc.property(anyJsString, anyJsString, (a, b) => {
        for (const s of [a, b]) {
          assert.equal(decodeKey(encodeKey(s)), s);
          assert.deepEqual(decodeKey(encodeKey([s, s])), [s, s]);
        }
        const order = sign(referenceCompare(a, b));
        assert.equal(sign(Buffer.compare(encodeKey(a), encodeKey(b))), order);
        assert.equal(sign(Buffer.compare(encodeKey([a]), encodeKey([b]))), order);
        assert.equal(encodeKey(a).equals(encodeKey(b)), a === b);
        assert.equal(encodeKey([a, 0]).equals(encodeKey([b, 0])), a === b);
      }),
      { numRuns: 3000 },
    );
  });

  it('gives equal keys equal bytes, and unequal keys unequal bytes', () => {
    fc.assert(
      fc.property(anyKey, anyKey, (a, b) => {
        const same = referenceCompare(a, b) === 0;
        assert.equal(encodeKey(a).equals(encodeKey(b)), same);
      }),
      { numRuns: 2000 },
    );
  });

  it('orders the documented edge cases', () => {
    const ordered: Key[] = [
      null,
      false,
      true,
      -Infinity,
      -Number.MAX_VALUE,
      -1,
      -Number.MIN_VALUE,
      0,
      Number.MIN_VALUE,
      1,
      Infinity,
      Number.NaN,
      -(2n ** 100n),
      -256n,
      -255n,
      -1n,
      0n,
      1n,
      255n,
      256n,
      2n ** 100n,
      '',
      '\u0000',
      'a',
      'a\u0000',
      'ab',
      '\u00ff',
      '\ud7ff',
      '\ud800',
      '\ud800\u0000',
      '\ud83d',
      '\udbff',
      '\udc00',
      '\ude00\ud83d',
      '\udfff',
      '\ue000',
      '\ufffd',
      '\uffff',
      '\u{1F600}',
      '\u{10FFFF}',
      new Uint8Array([]),
      new Uint8Array([0]),
      new Uint8Array([0, 0]),
      new Uint8Array([1]),
      [],
      [null],
      ['a'],
      ['a', 1],
      ['a\u0000'],
      ['ab'],
      ['\ud800'],
      ['\ud83d', 'x'],
      ['\ufffd'],
      [[]],
    ];
    const encoded = ordered.map(encodeKey);
    for (let i = 1; i < encoded.length; i++) {
      assert.ok(Buffer.compare(encoded[i - 1], encoded[i]) < 0, `${i - 1} < ${i}`);
    }
    assert.deepEqual(encodeKey(-0), encodeKey(0));
    assert.deepEqual(encodeKey(Number.NaN), encodeKey(-Number.NaN));
  });

  it('pins the layout of common keys', () => {
    assert.equal(encodeKey('the').toString('hex'), '07746865');
    assert.equal(encodeKey(42).toString('hex'), '04c045000000000000');
    assert.equal(encodeKey(-1.5).toString('hex'), '044007ffffffffffff');
    assert.equal(encodeKey(256n).toString('hex'), '06000000020100');
    assert.equal(encodeKey(-256n).toString('hex'), '05fffffffdfeff');
    assert.equal(encodeKey(['a\u0000', null]).toString('hex'), '09076100ff000100');
    assert.equal(encodeKey('\ud800').toString('hex'), '07eda080');
    assert.equal(encodeKey('x\udfff\u{1F600}').toString('hex'), '0778edbfbff09f9880');
    assert.equal(encodeKey(['\ud83d']).toString('hex'), '0907eda0bd0000');
    assert.equal(encodeKey('\ufffd').toString('hex'), '07efbfbd');
  });

  it('rejects unsupported keys with TSMR_BAD_KEY', () => {
    for (const bad of [undefined, {}, Symbol('x'), () => 1, new Int16Array(2), new Date(0)]) {
      assert.throws(
        () => encodeKey(bad as unknown as Key),
        (e: unknown) => isTsmrError(e) && e.code === 'TSMR_BAD_KEY',
      );
    }
    let deep: Key = [];
    for (let i = 0; i < 70; i++) deep = [deep];
    assert.throws(
      () => encodeKey(deep),
      (e: unknown) => isTsmrError(e) && e.code === 'TSMR_BAD_KEY',
    );
  });

  it('rejects corrupt encodings with TSMR_CORRUPT_DATA', () => {
    const corrupt = ['', '04c045', '0907', '090761', 'ff', '0600000005', '0901', '060000000001ff'];
    for (const hex of corrupt) {
      assert.throws(
        () => decodeKey(Buffer.from(hex, 'hex')),
        (e: unknown) => isTsmrError(e) && e.code === 'TSMR_CORRUPT_DATA',
        hex,
      );
    }
    assert.throws(
      () => decodeKey(Buffer.from('09'.repeat(100), 'hex')),
      (e: unknown) => isTsmrError(e) && e.code === 'TSMR_CORRUPT_DATA',
    );
  });

  it('decodes a key inside a larger buffer', () => {
    const w = new ByteWriter(4);
    w.byte(0xaa);
    writeKey(w, ['x', 7n]);
    const end = w.pos;
    w.byte(0xbb);
    assert.deepEqual(decodeKey(w.buf, 1, end), ['x', 7n]);
  });

  it('compareKeyRange and keyRangeEquals agree with Buffer.compare, short and long', () => {
    const bytes = fc
      .uint8Array({ maxLength: 80 })
      .chain((a) =>
        fc.constantFrom(a, Uint8Array.from([...a, 0]), Uint8Array.from([...a.subarray(0, a.length - 1), 9])),
      );
    fc.assert(
      fc.property(bytes, bytes, fc.nat(3), (a, b, pad) => {
        const x = Buffer.concat([Buffer.alloc(pad, 7), a]);
        const y = Buffer.concat([b, Buffer.alloc(pad, 7)]);
        const expected = sign(Buffer.compare(a, b));
        assert.equal(sign(compareKeyRange(x, pad, x.length, y, 0, b.length)), expected);
        assert.equal(keyRangeEquals(x, pad, x.length, y, 0, b.length), expected === 0);
      }),
      { numRuns: 2000 },
    );
  });

  describe('tuplePrefixEnd', () => {
    const anyTuple = fc.array(anyKey, { minLength: 1, maxLength: 6 });
    const tupleAndLength = anyTuple.chain((tuple) =>
      fc.tuple(fc.constant(tuple), fc.integer({ min: 1, max: tuple.length })),
    );

    it('ends where the encoded prefix tuple ends, also inside a larger buffer', () => {
      fc.assert(
        fc.property(tupleAndLength, fc.uint8Array({ maxLength: 4 }), ([tuple, n], junk) => {
          const key = encodeKey(tuple);
          const prefix = encodeKey(tuple.slice(0, n));
          assert.equal(tuplePrefixEnd(key, 0, key.length, n), prefix.length - 1);
          assert.ok(key.subarray(0, prefix.length - 1).equals(prefix.subarray(0, -1)));
          const framed = Buffer.concat([junk, key, junk]);
          const at = junk.length;
          assert.equal(tuplePrefixEnd(framed, at, at + key.length, n), at + prefix.length - 1);
        }),
        { numRuns: 3000 },
      );
    });

    it('hasTuplePrefix tells keys with equal prefixes (equal prefix bytes) from all others', () => {
      fc.assert(
        fc.property(tupleAndLength, anyTuple, fc.boolean(), ([a, n], other, share) => {
          // Half the time b starts with a's prefix (or a part of it), so both answers occur.
          const b = share ? [...a.slice(0, n - (other.length % 2)), ...other] : other;
          const ka = encodeKey(a);
          const kb = encodeKey(b);
          const ea = tuplePrefixEnd(ka, 0, ka.length, n);
          const samePrefix = b.length >= n && encodeKey(a.slice(0, n)).equals(encodeKey(b.slice(0, n)));
          assert.equal(hasTuplePrefix(kb, 0, kb.length, ka, ea), samePrefix);
          if (samePrefix) assert.ok(kb.subarray(0, ea).equals(ka.subarray(0, ea)), 'equal prefix bytes');
        }),
        { numRuns: 3000 },
      );
    });

    it('refuses a key that is not a tuple, or has fewer elements, with TSMR_BAD_KEY', () => {
      const bad = (key: Key, n: number, message: RegExp): void => {
        const encoded = encodeKey(key);
        assert.throws(
          () => tuplePrefixEnd(encoded, 0, encoded.length, n),
          (e: unknown) => isTsmrError(e) && e.code === 'TSMR_BAD_KEY' && message.test(e.message),
        );
      };
      bad('example.com', 1, /the key "example.com" is not an array/);
      bad(42, 1, /the key 42 is not an array/);
      bad(['a'], 2, /the key \["a"\] has 1 element, fewer than 2/);
      bad([], 1, /has 0 elements, fewer than 1/);
      // The empty byte string's terminator is also the start of an escaped zero.
      const empty = encodeKey([new Uint8Array(0)]);
      const zero = encodeKey([new Uint8Array(1)]);
      assert.equal(
        hasTuplePrefix(zero, 0, zero.length, empty, tuplePrefixEnd(empty, 0, empty.length, 1)),
        false,
      );
      assert.equal(
        tuplePrefixEnd(encodeKey([['x', 1], 'y']), 0, encodeKey([['x', 1], 'y']).length, 1),
        encodeKey([['x', 1]]).length - 1,
      );
    });
  });
});
