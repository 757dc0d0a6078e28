import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { isTsmrError } from '../errors.ts';
import { ioError } from './file-io.ts';
import { BufferRecordCursor } from './record-format.ts';
import { RunWriter } from './run-writer.ts';
import { tempDir } from './test-support.ts';

describe('RunWriter', () => {
  it('writes one segment per partition with offsets, lengths, counts and CRC-32s', (t) => {
    const dir = tempDir(t);
    const input = fc.tuple(
      fc.integer({ min: 1, max: 6 }),
      fc.array(fc.tuple(fc.nat(5), fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 300 })), {
        maxLength: 60,
      }),
      fc.integer({ min: 1, max: 500 }),
    );
    let run = 0;
    fc.assert(
      fc.property(input, ([R, raw, bufferBytes]) => {
        const records = raw.map(([p, k, v]) => [p % R, k, v] as const).sort((a, b) => a[0] - b[0]);
        const path = join(dir, `run${run++}`);
        const w = new RunWriter(path, R, { bufferBytes });
        for (const [p, k, v] of records) w.append(p, k, 0, k.length, v, 0, v.length);
        assert.equal(w.records, records.length);
        const segments = w.close();
        assert.equal(segments.length, R);
        const file = readFileSync(path);
        assert.equal(w.bytes, file.length);
        let offset = 0;
        for (let p = 0; p < R; p++) {
          const s = segments[p];
          assert.equal(s.offset, offset);
          offset += s.length;
          const bytes = file.subarray(s.offset, s.offset + s.length);
          assert.equal(s.crc32, crc32(bytes));
          const mine = records.filter((r) => r[0] === p);
          assert.equal(s.records, mine.length);
          const c = new BufferRecordCursor(bytes);
          for (const [, k, v] of mine) {
            assert.ok(c.next());
            assert.deepEqual(c.buf.subarray(c.keyStart, c.keyEnd), Buffer.from(k));
            assert.deepEqual(c.buf.subarray(c.valueStart, c.valueEnd), Buffer.from(v));
          }
          assert.equal(c.next(), false);
        }
        assert.equal(offset, file.length);
      }),
      { numRuns: 200 },
    );
  });

  it('writes an empty file with empty segments when nothing is appended', (t) => {
    const path = join(tempDir(t), 'empty');
    assert.deepEqual(new RunWriter(path, 2).close(), [
      { offset: 0, length: 0, records: 0, crc32: 0 },
      { offset: 0, length: 0, records: 0, crc32: 0 },
    ]);
    assert.equal(readFileSync(path).length, 0);
  });

  it('refuses records out of partition order or range (TSMR_INTERNAL), and abort deletes the file', (t) => {
    const path = join(tempDir(t), 'bad');
    const w = new RunWriter(path, 3);
    const k = Buffer.from('k');
    w.append(1, k, 0, 1, k, 0, 1);
    const isInternal = (e: unknown): boolean => isTsmrError(e) && e.code === 'TSMR_INTERNAL';
    assert.throws(() => w.append(0, k, 0, 1, k, 0, 1), isInternal);
    assert.throws(() => w.append(3, k, 0, 1, k, 0, 1), isInternal);
    assert.throws(() => w.append(1.5, k, 0, 1, k, 0, 1), isInternal);
    w.abort();
    assert.equal(existsSync(path), false);
  });

  it('reports a file it cannot create as TSMR_IO naming the file', (t) => {
    const path = join(tempDir(t), 'no', 'such', 'dir', 'run');
    assert.throws(
      () => new RunWriter(path, 1),
      (e: unknown) =>
        isTsmrError(e) && e.code === 'TSMR_IO' && e.message.includes(path) && e.details.file === path,
    );
  });

  it('says plainly when the disk is full', () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const e = ioError('write', '/tmp/x/m-00001_0.spill3', enospc);
    assert.equal(e.code, 'TSMR_IO');
    assert.match(e.message, /no space left on device while writing \/tmp\/x\/m-00001_0\.spill3/);
    assert.equal(e.details.file, '/tmp/x/m-00001_0.spill3');
    assert.equal(e.cause, enospc);
  });
});
