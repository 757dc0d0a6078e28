import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ErrorCode, isTsmrError } from '../errors.ts';
import { readSplit } from './record-reader.ts';
import type { InputFile } from './input-paths.ts';
import { planSplits } from './splits.ts';
import { SPOOL_MAGIC, parseSpoolHeader, spoolRecords } from './spool.ts';

let dir: string;
let n = 0;
const fresh = () => path.join(dir, `s${n++}`);
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tsmr-spool-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readAll(files: InputFile[]): Promise<[unknown, unknown][]> {
  const out: [unknown, unknown][] = [];
  for (const split of planSplits(files, { splitSize: 1 << 30 })) {
    await readSplit(split, { type: 'records' }, (k, v) => void out.push([k, v]));
  }
  return out;
}

describe('spoolRecords', () => {
  test('writes numbered files of about bytesPerFile with the first index in the header', async () => {
    const items = Array.from({ length: 1000 }, (_, i) => `value number ${i}`);
    const target = fresh();
    const files = await spoolRecords(items, target, { bytesPerFile: 2000 });
    assert.ok(files.length >= 9, `${files.length} files`);
    assert.deepEqual(
      files.map((f) => path.basename(f.path)),
      files.map((_, i) => `spool-${String(i).padStart(5, '0')}.rec`),
    );
    assert.deepEqual((await readdir(target)).sort(), files.map((f) => path.basename(f.path)).sort());
    let expectedFirst = 0;
    const got = await readAll(files);
    for (const f of files) {
      assert.ok(path.isAbsolute(f.path));
      assert.equal((await stat(f.path)).size, f.size);
      assert.ok(f.size <= 2000 + 40, `${f.size} bytes`);
      const bytes = await readFile(f.path);
      assert.equal(bytes.subarray(0, 8).compare(SPOOL_MAGIC), 0);
      const header = parseSpoolHeader(bytes, bytes.length);
      assert.equal(header?.firstIndex, expectedFirst);
      expectedFirst += (await readAll([f])).length;
    }
    assert.equal(expectedFirst, 1000);
    assert.deepEqual(
      got,
      items.map((v, i) => [i, v]),
    );
  });

  test('round-trips values of every kind', async () => {
    const items: unknown[] = [
      undefined,
      null,
      true,
      false,
      0,
      -0,
      4294967296,
      -1.5,
      Number.NaN,
      '',
      'héllo',
      12n,
      { a: [1, 'b', { c: null }] },
      new Map([[1, 'x']]),
      new Set(['y']),
      new Date(0),
      Buffer.from('bytes'),
      new Uint8Array([1, 2, 3]),
    ];
    const got = await readAll(await spoolRecords(items, fresh(), { bytesPerFile: 1 << 20 }));
    assert.deepEqual(
      got.map(([k]) => k),
      items.map((_, i) => i),
    );
    for (let i = 0; i < items.length; i++) {
      const [, v] = got[i];
      if (items[i] instanceof Buffer) assert.deepEqual(Buffer.from(v as Uint8Array), items[i]);
      else assert.deepEqual(v, items[i]);
    }
  });

  test('zero items write no file', async () => {
    assert.deepEqual(await spoolRecords([], fresh(), { bytesPerFile: 100 }), []);
  });

  test('an item that cannot be stored is TSMR_BAD_VALUE naming its index', async () => {
    await assert.rejects(
      spoolRecords(['ok', () => 1], fresh(), { bytesPerFile: 100 }),
      (e: unknown) => isTsmrError(e) && e.code === ErrorCode.BAD_VALUE && e.details.index === 1,
    );
  });

  test('a long async iterable is written out as it is read (bounded memory)', async () => {
    // (The test runner's async hooks make each promise slow, so this test is
    // kept to 100k items; the same code spools 10M items in a few seconds.)
    const count = 100_000;
    const pad = 'x'.repeat(90);
    const target = fresh();
    let maxBuffered = 0;
    async function* generate() {
      let itemBytes = 0;
      for (let i = 0; i < count; i++) {
        if (i % 5000 === 0 && i > 0) {
          let onDisk = 0;
          for (const name of readdirSync(target)) onDisk += statSync(path.join(target, name)).size;
          maxBuffered = Math.max(maxBuffered, itemBytes - onDisk);
        }
        const item = `${String(i).padStart(8, '0')}${pad}`;
        itemBytes += item.length + 2; // tag byte and one-byte length
        yield item;
      }
    }
    const files = await spoolRecords(generate(), target, { bytesPerFile: 1 << 20 });
    assert.ok(files.length >= 9);
    // Never more than the ~1 MiB write buffer is held in memory.
    assert.ok(maxBuffered <= (1 << 20) + 1000, `${maxBuffered} bytes buffered`);
    let seen = 0;
    let wrong = 0;
    for (const split of planSplits(files, { splitSize: 1 << 20 })) {
      await readSplit(split, { type: 'records' }, (k, v) => {
        if (k !== seen || v !== `${String(seen).padStart(8, '0')}${pad}`) wrong++;
        seen++;
      });
    }
    assert.equal(seen, count);
    assert.equal(wrong, 0);
  });
});
