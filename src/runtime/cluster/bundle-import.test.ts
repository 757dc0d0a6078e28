/**
 * A job bundle from the cache, imported in a worker thread, gets that
 * thread's own tsmr, runs with its npm package and built-in, and throws errors
 * whose stacks name the user's file and line.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { isTsmrError } from '../../errors.ts';
import { tempDir } from '../../shuffle/test-support.ts';
import { BundleCache } from './bundle-cache.ts';
import { loadJobBundle } from './bundle-import.ts';
import { throwSite, writeWordJob } from './fixtures/word-job.ts';
import { bundleJob } from './job-bundle.ts';

test('a cached bundle imported in a worker thread runs against the thread’s own tsmr', async (t) => {
  const bundle = await bundleJob(writeWordJob(tempDir(t, 'tsmr-job-')));
  const cache = new BundleCache(tempDir(t, 'tsmr-worker-'));
  const path = await cache.put(bundle.sha256, bundle.bytes);

  const worker = new Worker(new URL('./fixtures/bundle-thread.ts', import.meta.url), {
    workerData: { cacheDir: cache.dir, path },
  });
  const [seen] = await once(worker, 'message');
  await once(worker, 'exit');

  assert.equal(seen.isJob, true);
  assert.equal(seen.ownTsmr, true, "the bundle's tsmr is not the thread's own module");
  assert.deepEqual(seen.emitted, [
    ['b', 1],
    ['a', 1],
    ['b', 1],
    ['b', 5],
  ]);
  assert.deepEqual(seen.dependencies, ['b.txt', 'commander.invalidArgument']);
  const frames = (seen.stack as string).split('\n');
  assert.equal(frames[0], 'Error: boom in words');
  assert.match(frames[1], new RegExp(`^ +at words \\(tsmr-job:${throwSite.file}:${throwSite.line}:\\d+\\)$`));
  assert.match(
    frames[2],
    new RegExp(`^ +at .*map \\(tsmr-job:${throwSite.callerFile}:${throwSite.callerLine}:\\d+\\)$`),
  );

  // The hook belongs to the worker thread: this thread cannot import the bundle.
  await assert.rejects(import(pathToFileURL(path).href), { code: 'ERR_MODULE_NOT_FOUND', message: /'tsmr'/ });
  await assert.rejects(loadJobBundle(path), (e) => isTsmrError(e) && e.code === 'TSMR_INTERNAL');
});
