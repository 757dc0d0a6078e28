import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ByteWriter } from './byte-writer.ts';
import { anyJsString } from './test-support.ts';
import { readWtf8, writeWtf8 } from './wtf8.ts';

function encode(s: string): Buffer {
  const buf = Buffer.alloc(3 * s.length + 2, 0xaa);
  const end = writeWtf8(buf, 1, s);
  assert.equal(buf[end], 0xaa, 'writes nothing past the returned position');
  return buf.subarray(1, end);
}

describe('WTF-8', () => {
  it('round-trips every JS string, injectively, in a larger buffer and through ByteWriter.wtf8', () => {
    fc.assert(
      fc.property(anyJsString, anyJsString, (a, b) => {
        // Long strings too: ByteWriter takes other paths past 32 code units.
        for (const [x, y] of [
          [a, b],
          [`${a.repeat(3)}${'x'.repeat(32)}`, `${b.repeat(3)}${'x'.repeat(32)}`],
        ]) {
          const ex = encode(x);
          const padded = Buffer.concat([Buffer.of(0xed, 0xa0), ex, Buffer.of(0x80)]);
          assert.equal(readWtf8(padded, 2, 2 + ex.length), x);
          const w = new ByteWriter(1);
          assert.equal(w.wtf8(x), x.isWellFormed());
          assert.deepEqual(w.view(), ex);
          assert.equal(ex.equals(encode(y)), x === y);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('is UTF-8 for well-formed strings; a lone surrogate is the 3-byte sequence of its code unit', () => {
    fc.assert(
      fc.property(anyJsString, (s) => {
        if (s.isWellFormed()) assert.deepEqual(encode(s), Buffer.from(s, 'utf8'));
        assert.equal(encode(s).length, Buffer.byteLength(s, 'utf8'));
        const long = s.repeat(3) + 'é'.repeat(33);
        const w = new ByteWriter(1);
        w.wtf8(long);
        assert.deepEqual(w.view(), encode(long));
        if (long.isWellFormed()) assert.deepEqual(encode(long), Buffer.from(long, 'utf8'));
      }),
      { numRuns: 2000 },
    );
    const pins: Array<[string, string]> = [
      ['\ud800', 'eda080'],
      ['\udbff', 'edafbf'],
      ['\udc00', 'edb080'],
      ['\udfff', 'edbfbf'],
      ['\ud83d\ude00', 'f09f9880'],
      ['\ude00\ud83d', 'edb880eda0bd'],
      ['a\ud83d', '61eda0bd'],
      ['\ud83d\ud83d\ude00', 'eda0bdf09f9880'],
      ['\ud7ff\ue000', 'ed9fbfee8080'],
    ];
    for (const [s, hex] of pins) {
      assert.equal(encode(s).toString('hex'), hex);
      assert.equal(readWtf8(Buffer.from(hex, 'hex'), 0, hex.length / 2), s);
    }
  });

  it('decodes bytes without encoded surrogates as Buffer.toString does, U+FFFD included', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const b = Buffer.from(bytes);
        const hasSurrogate = /\xed[\xa0-\xbf][\x80-\xbf]/.test(b.toString('latin1'));
        if (!hasSurrogate) assert.equal(readWtf8(b, 0, b.length), b.toString('utf8'));
      }),
      { numRuns: 2000 },
    );
    const b = Buffer.from('\ufffd x \ufffd', 'utf8');
    assert.equal(readWtf8(b, 0, b.length), '\ufffd x \ufffd');
  });
});
