import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isTsmrError } from '../errors.ts';
import { tempDir } from '../shuffle/test-support.ts';
import { resolveSideFiles } from './side-files.ts';

test('side files: named by base name or #name, with size and SHA-256 of the content', async (t) => {
  const dir = tempDir(t, 'tsmr-side-files-');
  const stop = join(dir, 'stop words.txt');
  writeFileSync(stop, 'the\na\n');
  const table = join(dir, 'cats.txt');
  writeFileSync(table, 'ca01 news\n');
  const files = await resolveSideFiles([stop, `${table}#genres`]);
  assert.deepEqual(files, [
    {
      name: 'stop words.txt',
      path: stop,
      size: 6,
      sha256: createHash('sha256').update('the\na\n').digest('hex'),
    },
    {
      name: 'genres',
      path: table,
      size: 10,
      sha256: createHash('sha256').update('ca01 news\n').digest('hex'),
    },
  ]);
  assert.deepEqual(await resolveSideFiles([]), []);
});

test('side files: missing, a directory, a bad #name or a name twice are usage errors', async (t) => {
  const dir = tempDir(t, 'tsmr-side-files-');
  const a = join(dir, 'a.txt');
  writeFileSync(a, 'x');
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'sub', 'a.txt'), 'y');
  const refused = async (specs: string[], message: RegExp): Promise<void> =>
    assert.rejects(
      resolveSideFiles(specs),
      (e: unknown) => isTsmrError(e) && e.code === 'TSMR_USAGE' && message.test(e.message),
    );
  await refused([join(dir, 'nope')], /side file .*nope does not exist/);
  await refused([join(dir, 'sub')], /side file .*sub is not a regular file/);
  await refused([`${a}#`], /the name after # must be a plain file name, got ''/);
  await refused([`${a}#x/y`], /must be a plain file name, got 'x\/y'/);
  await refused([a, join(dir, 'sub', 'a.txt')], /are both named 'a\.txt': rename one with path#othername/);
});
