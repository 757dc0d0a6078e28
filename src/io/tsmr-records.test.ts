import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isTsmrError } from '../errors.ts';
import { createOutputWriter, normalizeOutputFormat } from './output-writer.ts';
import { normalizeInputFormat, readSplit } from './record-reader.ts';
import { planSplits } from './splits.ts';
import { TSMR_RECORDS_MAGIC } from './tsmr-records.ts';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tsmr-records-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function readAll(path: string, chunkSize?: number): Promise<[unknown, unknown][]> {
  const { size, mtimeMs } = await stat(path);
  const splits = planSplits([{ path, size, mtimeMs }], { splitSize: 16, whole: true });
  assert.equal(splits.length, 1, 'a tsmr records file is one split, however small the split size');
  const got: [unknown, unknown][] = [];
  await readSplit(splits[0]!, { type: 'tsmr' }, (k, v) => void got.push([k, v]), {}, { chunkSize });
  return got;
}

test('tsmr records: keys and values come back with their types, across chunk boundaries', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'part-r-00000');
  const records: [unknown, unknown][] = [
    [['news', 'jury'], 12],
    ['word', 0.5],
    [7, -3n],
    [Buffer.from([0, 255, 10]), new Uint8Array([1, 2])],
    [null, { nested: ['a', 1, true], when: new Date(0) }],
    [undefined, 'x'.repeat(70_000)], // longer than a read chunk
    ['\ud800 lone surrogate', [1, [2, [3]]]],
    [new Map([['k', 1]]), new Set(['s'])],
  ];
  const w = createOutputWriter(path, normalizeOutputFormat('tsmr'));
  for (const [k, v] of records) w.write(k, v);
  const written = await w.close();
  assert.equal(written.records, records.length);
  assert.equal(written.bytes, (await stat(path)).size);
  assert.ok((await readFile(path)).subarray(0, 8).equals(TSMR_RECORDS_MAGIC));
  for (const chunkSize of [16, 1000, undefined]) {
    const got = await readAll(path, chunkSize);
    assert.deepEqual(got, records);
    assert.ok(Buffer.isBuffer(got[3]![0]), 'a Buffer key decodes as a Buffer');
    assert.ok(!Buffer.isBuffer(got[3]![1]) && got[3]![1] instanceof Uint8Array, 'a Uint8Array stays one');
  }
});

test('tsmr records: an empty output is a header only and reads as no records', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'empty');
  await createOutputWriter(path, { type: 'tsmr' }).close();
  assert.deepEqual(await readFile(path), TSMR_RECORDS_MAGIC);
  assert.deepEqual(await readAll(path), []);
});

test('tsmr records: a value V8 cannot serialize is TSMR_BAD_VALUE and leaves no half record', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'bad');
  const w = createOutputWriter(path, { type: 'tsmr' });
  w.write('before', 1);
  assert.throws(
    () => w.write('k', () => 1),
    (e) => isTsmrError(e) && e.code === 'TSMR_BAD_VALUE',
  );
  w.write('after', 2);
  await w.close();
  assert.deepEqual(await readAll(path), [
    ['before', 1],
    ['after', 2],
  ]);
});

test('tsmr records: a file without the header, or cut short, is TSMR_CORRUPT_DATA naming it', async (t) => {
  const dir = await tempDir(t);
  const text = join(dir, 'text');
  await writeFile(text, 'word\t1\nother\t2\n');
  await assert.rejects(
    readAll(text),
    (e) => isTsmrError(e) && e.code === 'TSMR_CORRUPT_DATA' && e.message.includes(text),
  );
  const full = join(dir, 'full');
  const w = createOutputWriter(full, { type: 'tsmr' });
  w.write('a key', 'a value long enough');
  await w.close();
  const cut = join(dir, 'cut');
  const bytes = await readFile(full);
  await writeFile(cut, bytes.subarray(0, bytes.length - 3));
  await assert.rejects(
    readAll(cut),
    (e) => isTsmrError(e) && e.code === 'TSMR_CORRUPT_DATA' && /truncated/.test(e.message),
  );
});

test("'tsmr' and { type: 'tsmr' } are input and output formats", () => {
  for (const f of ['tsmr', { type: 'tsmr' }] as const) {
    assert.deepEqual(normalizeInputFormat(f), { type: 'tsmr' });
    assert.deepEqual(normalizeOutputFormat(f), { type: 'tsmr' });
  }
  assert.throws(
    () => normalizeInputFormat({ type: 'tsmr', encoding: 'utf8' } as never),
    (e) => isTsmrError(e) && e.code === 'TSMR_BAD_JOB',
  );
});
