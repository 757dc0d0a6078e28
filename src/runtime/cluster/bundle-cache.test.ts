/**
 * The worker's bundle cache stores only bytes whose SHA-256 matches their
 * address, names files only after valid digests, and leaves no partial or
 * temporary files, also under concurrent puts of one bundle.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isTsmrError } from '../../errors.ts';
import { filesIn, tempDir } from '../../shuffle/test-support.ts';
import { bundleDigest } from './bundle-digest.ts';
import { BundleCache } from './bundle-cache.ts';

const bytes = new TextEncoder().encode('export default 42;\n');
const sha = bundleDigest(bytes);

function refused(code: string): (error: unknown) => boolean {
  return (error) => isTsmrError(error) && error.code === code;
}

test('a bundle put under its SHA-256 is cached as <sha256>.mjs', async (t) => {
  const cache = new BundleCache(tempDir(t, 'tsmr-cache-'));
  assert.equal(cache.has(sha), false);
  const path = await cache.put(sha, bytes);
  assert.equal(path, join(cache.dir, `${sha}.mjs`));
  assert.equal(cache.path(sha), path);
  assert.equal(cache.has(sha), true);
  assert.deepEqual(readFileSync(path), Buffer.from(bytes));
  assert.deepEqual(filesIn(cache.dir), [`${sha}.mjs`]);
});

test('bytes that do not match their SHA-256 are refused and nothing is written', async (t) => {
  const workDir = tempDir(t, 'tsmr-cache-');
  const cache = new BundleCache(workDir);
  const other = new TextEncoder().encode('export default 43;\n');
  // The bytes of one bundle under the address of another.
  await assert.rejects(cache.put(bundleDigest(other), bytes), refused('TSMR_CORRUPT_DATA'));
  assert.deepEqual(filesIn(workDir), []);
  await cache.put(sha, bytes);
  const flipped = sha.replace(/^./, (c) => (c === '0' ? '1' : '0'));
  await assert.rejects(cache.put(flipped, bytes), refused('TSMR_CORRUPT_DATA'));
  assert.deepEqual(filesIn(cache.dir), [`${sha}.mjs`]);
});

test('a malformed SHA-256 is refused before any file is named', async (t) => {
  const workDir = tempDir(t, 'tsmr-cache-');
  const cache = new BundleCache(workDir);
  const malformed = [
    '../x',
    sha.slice(1),
    `${sha}0`,
    sha.toUpperCase(),
    `../${sha.slice(3)}`,
    `${sha.slice(1)}/`,
    '',
  ];
  for (const bad of malformed) {
    assert.throws(() => cache.path(bad), refused('TSMR_USAGE'), bad);
    assert.throws(() => cache.has(bad), refused('TSMR_USAGE'), bad);
    await assert.rejects(cache.put(bad, bytes), refused('TSMR_USAGE'), bad);
  }
  assert.deepEqual(filesIn(workDir), []);
});

test('concurrent puts of one bundle leave one complete file and no temporary files', async (t) => {
  const big = new Uint8Array(4 * 1024 * 1024).map((_, i) => (i * 31) & 0xff);
  const bigSha = bundleDigest(big);
  // Two caches on one directory, as two worker processes sharing a work dir.
  const dir = tempDir(t, 'tsmr-cache-');
  const caches = [new BundleCache(dir), new BundleCache(dir)];
  const paths = await Promise.all(Array.from({ length: 16 }, (_, i) => caches[i % 2].put(bigSha, big)));
  assert.deepEqual(new Set(paths), new Set([join(dir, 'bundles', `${bigSha}.mjs`)]));
  assert.deepEqual(filesIn(caches[0].dir), [`${bigSha}.mjs`]);
  assert.equal(bundleDigest(readFileSync(paths[0])), bigSha);
});
