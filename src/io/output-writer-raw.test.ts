import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isTsmrError } from '../errors.ts';
import { createOutputWriter, normalizeOutputFormat } from './output-writer.ts';

test('raw output format: keys written byte for byte, values ignored, no separators added', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tsmr-raw-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'part-r-00000');
  const w = createOutputWriter(path, { type: 'raw' });
  const big = Buffer.alloc(3 << 20, 0x61); // larger than the writer's 1 MiB buffer
  const chunks = [
    Buffer.from('a\tb\n'),
    new Uint8Array([0xff, 0x00, 0xfe]),
    Buffer.alloc(0),
    big,
    Buffer.from('no newline'),
  ];
  for (const c of chunks) w.write(c, 'ignored');
  assert.throws(
    () => w.write('a string', undefined),
    (e) => isTsmrError(e),
  );
  const result = await w.close();
  const expected = Buffer.concat(chunks);
  assert.deepEqual(result, { records: chunks.length, bytes: expected.length });
  assert.ok((await readFile(path)).equals(expected));
});

test('users cannot ask for the raw output format', () => {
  assert.throws(
    () => normalizeOutputFormat({ type: 'raw' } as never),
    (e) => isTsmrError(e) && e.code === 'TSMR_BAD_JOB',
  );
});
