import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ByteWriter, copyBytes, readVarint } from './byte-writer.ts';
import { anyChar, keyString } from './test-support.ts';

describe('ByteWriter', () => {
  it('writes strings exactly as Buffer.from does (ASCII fast path and the rest)', () => {
    fc.assert(
      fc.property(fc.oneof(keyString, fc.string(), fc.string({ unit: anyChar, maxLength: 80 })), (s) => {
        const w = new ByteWriter(1);
        w.byte(9);
        w.string(s);
        assert.deepEqual(w.view(), Buffer.concat([Buffer.from([9]), Buffer.from(s, 'utf8')]));
        const l = new ByteWriter(1);
        l.string(s, 'latin1');
        assert.deepEqual(l.view(), Buffer.from(s, 'latin1'));
      }),
      { numRuns: 1000 },
    );
  });

  it('round-trips varints up to 2^53', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.nat(300), fc.maxSafeNat())), (ns) => {
        const w = new ByteWriter(2);
        for (const n of ns) w.varint(n);
        const out = [0];
        let pos = 0;
        for (const n of ns) {
          assert.equal(readVarint(w.buf, pos, w.pos, out), n);
          pos = out[0];
        }
        assert.equal(pos, w.pos);
      }),
    );
    assert.throws(() => readVarint(Buffer.from([0x80, 0x80]), 0, 2, [0]), RangeError);
  });

  it('grows, copies ranges and resets', () => {
    const w = new ByteWriter(1);
    const src = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
    w.bytes(src, 10, 15);
    w.bytes(src, 0, 100);
    assert.deepEqual(w.view(), Buffer.concat([src.subarray(10, 15), src]));
    w.reset();
    assert.equal(w.view().length, 0);
    const dst = Buffer.alloc(50);
    copyBytes(src, 3, 6, dst, 1);
    copyBytes(src, 50, 90, dst, 10);
    assert.deepEqual([...dst.subarray(0, 5)], [0, 3, 4, 5, 0]);
    assert.deepEqual(dst.subarray(10), src.subarray(50, 90));
  });
});
