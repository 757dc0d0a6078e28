import assert from 'node:assert/strict';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { isTsmrError } from '../errors.ts';
import type { TsmrError } from '../errors.ts';
import { RunWriter } from './run-writer.ts';
import { openSegment } from './segment-reader.ts';
import type { SegmentRef } from './segment-reader.ts';
import { tempDir } from './test-support.ts';

function readAll(ref: SegmentRef, bufferBytes?: number): Array<[string, string]> {
  const c = openSegment(ref, { bufferBytes });
  const out: Array<[string, string]> = [];
  while (c.next()) {
    out.push([
      c.buf.toString('latin1', c.keyStart, c.keyEnd),
      c.buf.toString('latin1', c.valueStart, c.valueEnd),
    ]);
  }
  assert.equal(c.records, ref.records);
  return out;
}

/** Writes partitions 0..2 with the given records in partition 1; returns the ref of partition 1. */
function writeThree(path: string, records: Array<[string, string]>): SegmentRef {
  const w = new RunWriter(path, 3, { bufferBytes: 100 });
  const b = (s: string): Buffer => Buffer.from(s, 'latin1');
  w.append(0, b('before'), 0, 6, b('x'), 0, 1);
  for (const [k, v] of records) w.append(1, b(k), 0, k.length, b(v), 0, v.length);
  w.append(2, b('after'), 0, 5, b('y'), 0, 1);
  const s = w.close()[1];
  return { path, ...s, source: 'm-00007' };
}

function corruptWith(reason: RegExp, ref: SegmentRef): (e: unknown) => boolean {
  return (e: unknown) => {
    const err = e as TsmrError;
    return (
      isTsmrError(e) &&
      err.code === 'TSMR_CORRUPT_DATA' &&
      reason.test(err.message) &&
      err.details.file === ref.path &&
      err.details.source === ref.source &&
      (err.details.segment as { offset: number }).offset === ref.offset
    );
  };
}

describe('openSegment', () => {
  it('reads back every record of a segment in the middle of a file, whatever the buffer size', (t) => {
    const dir = tempDir(t);
    let n = 0;
    const rec = fc.tuple(
      fc.string({ unit: 'binary-ascii', maxLength: 30 }),
      fc.string({ unit: 'binary-ascii', maxLength: 400 }),
    );
    fc.assert(
      fc.property(
        fc.array(rec, { maxLength: 40 }),
        fc.integer({ min: 1, max: 2000 }),
        (records, bufferBytes) => {
          const ref = writeThree(join(dir, `f${n++}`), records);
          assert.deepEqual(readAll(ref, bufferBytes), records);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('does not touch the file for an empty segment', () => {
    const ref = { path: '/nonexistent/x', offset: 5, length: 0, records: 0, crc32: 0, source: 'm' };
    assert.deepEqual(readAll(ref), []);
  });

  it('detects a flipped byte by its CRC-32, before returning records of the last chunk', (t) => {
    const path = join(tempDir(t), 'f');
    const ref = writeThree(path, [
      ['k1', 'v1'],
      ['k2', 'v2'],
    ]);
    const bytes = readFileSync(path);
    bytes[ref.offset + 3] ^= 0x01; // a value byte: framing stays valid
    writeFileSync(path, bytes);
    const c = openSegment(ref);
    assert.throws(() => c.next(), corruptWith(/CRC-32 mismatch/, ref));
  });

  it('detects a wrong record count', (t) => {
    const path = join(tempDir(t), 'f');
    const ref = writeThree(path, [
      ['k1', 'v1'],
      ['k2', 'v2'],
    ]);
    assert.throws(
      () => readAll({ ...ref, records: 3 }),
      corruptWith(/2 records where its index promises 3/, ref),
    );
    assert.throws(() => readAll({ ...ref, records: 1 }), corruptWith(/more records than the 1/, ref));
  });

  it('detects bad framing: a length that runs past the segment, a record cut short', (t) => {
    const dir = tempDir(t);
    const past = Buffer.from([0x01, 0x7f, 0x41, 0x42]);
    writeFileSync(join(dir, 'past'), past);
    const pastRef = {
      path: join(dir, 'past'),
      offset: 0,
      length: 4,
      records: 1,
      crc32: crc32(past),
      source: 'm-1',
    };
    assert.throws(() => readAll(pastRef), corruptWith(/runs past the end|cut short/, pastRef));
    const header = Buffer.from([0x81]);
    writeFileSync(join(dir, 'cut'), header);
    const cutRef = {
      path: join(dir, 'cut'),
      offset: 0,
      length: 1,
      records: 1,
      crc32: crc32(header),
      source: 'm-2',
    };
    assert.throws(() => readAll(cutRef), corruptWith(/cut short/, cutRef));
  });

  it('reports a missing or short file as TSMR_CORRUPT_DATA (the map output is lost)', (t) => {
    const dir = tempDir(t);
    const ref = writeThree(join(dir, 'f'), [['k', 'v']]);
    truncateSync(ref.path, ref.offset + 2);
    assert.throws(() => readAll(ref), corruptWith(/shorter than its index/, ref));
    const gone = { ...ref, path: join(dir, 'gone') };
    assert.throws(() => readAll(gone), corruptWith(/ENOENT/, gone));
  });

  it('stays exhausted after the end and after close()', (t) => {
    const ref = writeThree(join(tempDir(t), 'f'), [['a', '1']]);
    const c = openSegment(ref);
    assert.ok(c.next());
    assert.equal(c.next(), false);
    assert.equal(c.next(), false);
    const d = openSegment(ref);
    d.close();
    d.close();
    assert.equal(d.next(), false);
  });
});
