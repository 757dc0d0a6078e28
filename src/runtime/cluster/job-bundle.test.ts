/**
 * Bundling a job module with esbuild: the bytes and their SHA-256 depend on the
 * code only; tsmr stays an import, npm packages are inlined; build failures
 * and oversized bundles are clear `TSMR_BAD_JOB` errors.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isTsmrError } from '../../errors.ts';
import { tempDir } from '../../shuffle/test-support.ts';
import { writeWordJob } from './fixtures/word-job.ts';
import { bundleJob } from './job-bundle.ts';

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** A string of tsmr's `defineJob` code: present in a bundle only if tsmr was copied into it. */
const tsmrMarker = '__tsmrJob';

function badJob(pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(isTsmrError(error), String(error));
    assert.equal(error.code, 'TSMR_BAD_JOB');
    assert.match(error.message, pattern);
    return true;
  };
}

test('the same module in two directories gives the same bytes and SHA-256, with no path of either', async (t) => {
  const a = tempDir(t, 'tsmr-bundle-a-');
  const b = tempDir(t, 'tsmr-bundle-other-');
  const first = await bundleJob(writeWordJob(a));
  const second = await bundleJob(pathToFileURL(writeWordJob(b)));
  assert.equal(first.sha256, second.sha256);
  assert.deepEqual(first.bytes, second.bytes);
  assert.equal(first.sha256, createHash('sha256').update(first.bytes).digest('hex'));
  assert.equal(first.entryName, 'job.ts');
  assert.ok(!text(first.bytes).includes(a), 'the bundle names its directory');
  assert.ok(!text(second.bytes).includes(b), 'the bundle names its directory');
  const again = await bundleJob(join(a, 'job.ts'));
  assert.equal(again.sha256, first.sha256);
});

test('a change of the source changes the SHA-256', async (t) => {
  const dir = tempDir(t, 'tsmr-bundle-');
  const before = await bundleJob(writeWordJob(dir));
  writeFileSync(join(dir, 'lib', 'words.ts'), 'export const words = (line: string) => line.split(" ");\n');
  const after = await bundleJob(join(dir, 'job.ts'));
  assert.notEqual(after.sha256, before.sha256);
});

test('a syntax error is TSMR_BAD_JOB naming the file and line', async (t) => {
  const dir = tempDir(t, 'tsmr-bundle-');
  const entry = writeWordJob(
    dir,
    'export function words(line: string): string[] {\n  return [\n    line line;\n}\n',
  );
  await assert.rejects(
    bundleJob(entry),
    badJob(new RegExp(`${join(dir, 'lib', 'words.ts')}:3:\\d+: Expected`)),
  );
});

test('tsmr stays an import, by name and by the path of its entry, and its code is not copied', async (t) => {
  const byName = text((await bundleJob(writeWordJob(tempDir(t, 'tsmr-bundle-')))).bytes);
  // The example imports '../src/index.ts'.
  const byPath = text((await bundleJob(new URL('../../../examples/wordcount.ts', import.meta.url))).bytes);
  for (const bundle of [byName, byPath]) {
    assert.ok(/^import \{ defineJob \} from "tsmr";$/m.test(bundle), 'no import of tsmr');
    assert.ok(!bundle.includes(tsmrMarker), 'a copy of defineJob is in the bundle');
  }
});

test("a job that imports another module of tsmr's sources is refused", async (t) => {
  const dir = tempDir(t, 'tsmr-bundle-');
  const defineJobModule = fileURLToPath(new URL('../../api/define-job.ts', import.meta.url));
  writeFileSync(
    join(dir, 'job.ts'),
    `import { defineJob } from ${JSON.stringify(defineJobModule)};\n` +
      'export default defineJob({ map() {}, reduce() {} });\n',
  );
  await assert.rejects(
    bundleJob(join(dir, 'job.ts')),
    badJob(/job\.ts imports .*define-job\.ts, a module of tsmr's own sources/),
  );
});

test('Node built-ins stay imports; an npm package is inlined', async (t) => {
  const bundle = text((await bundleJob(writeWordJob(tempDir(t, 'tsmr-bundle-')))).bytes);
  assert.ok(/^import \{ basename \} from "node:path";$/m.test(bundle), 'no import of node:path');
  assert.ok(!/from "commander"|require\("commander"\)/.test(bundle), 'commander is imported, not inlined');
  assert.ok(bundle.includes('"commander.invalidArgument"'), "commander's code is not in the bundle");
});

test('a bundle over maxBytes is refused', async (t) => {
  const entry = writeWordJob(tempDir(t, 'tsmr-bundle-'));
  await assert.rejects(bundleJob(entry, { maxBytes: 1000 }), badJob(/MiB, over the limit of 0\.0 MiB/));
});

test('a missing module is TSMR_BAD_JOB', async (t) => {
  const missing = join(tempDir(t, 'tsmr-bundle-'), 'nope.ts');
  await assert.rejects(bundleJob(missing), badJob(/job module not found/));
});
