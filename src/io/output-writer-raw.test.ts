import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isTsmrError } from '../errors.ts';
import { createOutputWriter, normalizeOutputFormat } from './output-writer.ts';

test('raw output format: values written byte for byte, keys ignored, no separators added', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tsmr-raw-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'part-r-00000');
  const w = createOutputWriter(path, { type: 'raw' });
  const big = Buffer.alloc(3 << 20, 0x61); // larger than the writer's 1 MiB buffer
  const reused = Buffer.from('first');
  const chunks = [
    Buffer.from('a\tb\n'),
    new Uint8Array([0xff, 0x00, 0xfe]),
    Buffer.alloc(0),
    big,
    reused,
    Buffer.from('no newline'),
  ];
  for (const c of chunks) w.write('ignored key', c);
  reused.write('FIRST'); // the writer copied it
  w.write(null, 'é string');
  for (const bad of [42, { a: 1 }, null, undefined]) {
    assert.throws(
      () => w.write('k', bad),
      (e) => isTsmrError(e) && e.code === 'TSMR_BAD_VALUE' && /Uint8Array/.test(e.message),
    );
  }
  const result = await w.close();
  const expected = Buffer.concat([
    ...chunks.map((c) => (c === reused ? Buffer.from('first') : c)),
    Buffer.from('é string'),
  ]);
  assert.deepEqual(result, { records: chunks.length + 1, bytes: expected.length });
  assert.ok((await readFile(path)).equals(expected));
});

test("'raw' and { type: 'raw' } are output formats", () => {
  assert.deepEqual(normalizeOutputFormat('raw'), { type: 'raw' });
  assert.deepEqual(normalizeOutputFormat({ type: 'raw' }), { type: 'raw' });
  assert.throws(
    () => normalizeOutputFormat({ type: 'raw', encoding: 'utf8' } as never),
    (e) => isTsmrError(e) && e.code === 'TSMR_BAD_JOB',
  );
});
