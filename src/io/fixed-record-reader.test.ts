import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { isTsmrError } from '../errors.ts';
import { normalizeInputFormat, readSplit } from './record-reader.ts';
import { planSplits, type Split } from './splits.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tsmr-fixed-reader-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

let files = 0;
async function fileWith(content: Buffer, name = `f${files++}.bin`): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, content);
  return p;
}

function plan(p: string, splitSize: number): Split[] {
  const { size, mtimeMs } = statSync(p);
  return planSplits([{ path: p, size, mtimeMs }], { splitSize });
}

/** Reads every split; returns `[offset, bytes]` of each record, in split order. */
async function readAll(
  splits: Split[],
  recordLength: number,
  chunkSize?: number,
): Promise<[number, Buffer][]> {
  const out: [number, Buffer][] = [];
  for (const split of splits) {
    const result = await readSplit(
      split,
      { type: 'fixed', recordLength },
      (key, value) => void out.push([key as number, value as Buffer]),
      {},
      { chunkSize },
    );
    assert.equal(result.bytes, split.length, 'a split read counts its own bytes');
  }
  return out;
}

describe('fixed-length input format', () => {
  test('{ fixed: n } normalizes; bad lengths and extra properties are TSMR_BAD_JOB', () => {
    assert.deepEqual(normalizeInputFormat({ fixed: 100 }), { type: 'fixed', recordLength: 100 });
    assert.deepEqual(normalizeInputFormat({ type: 'fixed', recordLength: 7 }), {
      type: 'fixed',
      recordLength: 7,
    });
    for (const bad of [0, -1, 1.5, '100', 2 ** 40, Number.NaN]) {
      assert.throws(
        () => normalizeInputFormat({ fixed: bad } as never),
        (e) => isTsmrError(e) && e.code === 'TSMR_BAD_JOB' && /record length/.test(e.message),
      );
    }
    assert.throws(
      () => normalizeInputFormat({ fixed: 10, encoding: 'utf8' } as never),
      (e) => isTsmrError(e) && e.code === 'TSMR_BAD_JOB',
    );
  });

  test('every record exactly once, in the split where it starts, whatever the split and chunk sizes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 900 }),
        fc.integer({ min: 16, max: 300 }),
        async (recordLength, count, splitSize, chunkSize) => {
          const bytes = Buffer.alloc(recordLength * count);
          for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 3)) & 0xff;
          const p = await fileWith(bytes);
          const records = await readAll(plan(p, splitSize), recordLength, chunkSize);
          assert.equal(records.length, count);
          records.forEach(([offset, value], i) => {
            assert.equal(offset, i * recordLength);
            assert.ok(value.equals(bytes.subarray(offset, offset + recordLength)), `record ${i} is intact`);
          });
          await rm(p);
        },
      ),
      { numRuns: 150 },
    );
  });

  test('values stay valid after the handler returns (no chunk is reused under them)', async () => {
    const bytes = Buffer.from(Array.from({ length: 500 }, (_, i) => String(i % 10)).join(''));
    const p = await fileWith(bytes);
    const records = await readAll(plan(p, 1 << 20), 5, 16);
    assert.equal(Buffer.concat(records.map(([, v]) => v)).toString(), bytes.toString());
  });

  test('a file that is not a multiple of the record length fails at its cut record with TSMR_BAD_RECORD', async () => {
    const p = await fileWith(Buffer.from('aaaabbbbcc'));
    const seen: number[] = [];
    await assert.rejects(
      readSplit(plan(p, 1 << 20)[0], { type: 'fixed', recordLength: 4 }, (k) => void seen.push(k as number)),
      (e) =>
        isTsmrError(e) &&
        e.code === 'TSMR_BAD_RECORD' &&
        e.details.offset === 8 &&
        e.details.file === p &&
        /multiple of 4 bytes/.test(e.message),
    );
    assert.deepEqual(seen, [0, 4], 'the whole records before it were read');
    // Split at byte 6: the cut record starts in the second split, and only that split fails.
    const [first, second] = plan(p, 6);
    assert.deepEqual(first?.parts[0]?.end, 6);
    assert.deepEqual(
      (await readAll([first!], 4)).map(([k]) => k),
      [0, 4],
    );
    await assert.rejects(readAll([second!], 4), (e) => isTsmrError(e) && e.code === 'TSMR_BAD_RECORD');
  });

  test('gzip files are read whole, records aligned in the decompressed bytes', async () => {
    const bytes = Buffer.from('0123456789'.repeat(30));
    const p = await fileWith(gzipSync(bytes), 'records.gz');
    const records = await readAll(plan(p, 1 << 20), 10, 64);
    assert.equal(records.length, 30);
    assert.deepEqual(records.at(-1), [290, Buffer.from('0123456789')]);
  });
});
