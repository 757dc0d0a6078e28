import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isTsmrError } from '../errors.ts';
import { ByteWriter } from './byte-writer.ts';
import {
  BufferRecordCursor,
  INCOMPLETE,
  frameLength,
  parseFrame,
  varintLength,
  writeRecord,
} from './record-format.ts';

const record = fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }));

describe('record format', () => {
  it('writes varint(keyLength) varint(valueLength) key value', () => {
    const w = new ByteWriter(1);
    writeRecord(w, Buffer.from('xkey'), 1, 4, Buffer.from('value'), 0, 5);
    assert.equal(w.view().toString('hex'), `0305${Buffer.from('keyvalue').toString('hex')}`);
    const long = Buffer.alloc(200, 1);
    w.reset();
    writeRecord(w, long, 0, 200, long, 0, 0);
    assert.deepEqual([...w.view().subarray(0, 3)], [0xc8, 0x01, 0x00]);
    assert.equal(w.pos, frameLength(200, 0));
    assert.equal(varintLength(127), 1);
    assert.equal(varintLength(128), 2);
    assert.equal(varintLength(2 ** 53 - 1), 8);
  });

  it('reads back what it wrote, record by record', () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 30 }), (records) => {
        const w = new ByteWriter(1);
        for (const [k, v] of records) writeRecord(w, k, 0, k.length, v, 0, v.length);
        const c = new BufferRecordCursor(w.buf, 0, w.pos);
        for (const [k, v] of records) {
          assert.ok(c.next());
          assert.deepEqual(c.buf.subarray(c.keyStart, c.keyEnd), Buffer.from(k));
          assert.deepEqual(c.buf.subarray(c.valueStart, c.valueEnd), Buffer.from(v));
        }
        assert.equal(c.next(), false);
        assert.equal(c.next(), false);
        assert.equal(c.records, records.length);
      }),
    );
  });

  it('says INCOMPLETE for every cut of a frame, with the frame end once the header is whole', () => {
    const w = new ByteWriter(1);
    const key = Buffer.alloc(130, 2);
    writeRecord(w, key, 0, 130, key, 0, 3);
    const frame = Buffer.from(w.view());
    const out = { keyStart: 0, keyEnd: 0, valueEnd: 0 };
    for (let cut = 0; cut < frame.length; cut++) {
      assert.equal(parseFrame(frame, 0, cut, out), INCOMPLETE);
      assert.equal(out.valueEnd, cut < 3 ? -1 : frame.length);
    }
    assert.equal(parseFrame(frame, 0, frame.length, out), frame.length);
    assert.deepEqual(out, { keyStart: 3, keyEnd: 133, valueEnd: frame.length });
  });

  it('rejects a varint over 8 bytes and a cut-short last record with TSMR_CORRUPT_DATA', () => {
    const isCorrupt = (e: unknown): boolean => isTsmrError(e) && e.code === 'TSMR_CORRUPT_DATA';
    const tooLong = Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00]);
    assert.throws(() => new BufferRecordCursor(tooLong).next(), isCorrupt);
    const cut = new BufferRecordCursor(Buffer.from([0x01, 0x01, 0x07]));
    assert.throws(() => cut.next(), isCorrupt);
    assert.equal(cut.next(), false);
  });
});
