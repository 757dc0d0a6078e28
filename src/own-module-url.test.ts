import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ownModuleUrl } from './own-module-url.ts';

test('a module of the sources is a .ts file, of the build a .js file, relative to the caller', () => {
  assert.equal(
    ownModuleUrl('../../task/worker.ts', 'file:///p/src/runtime/local/local-executor.ts').href,
    'file:///p/src/task/worker.ts',
  );
  assert.equal(
    ownModuleUrl('../../task/worker.ts', 'file:///p/dist/runtime/local/local-executor.js').href,
    'file:///p/dist/task/worker.js',
  );
  assert.equal(
    ownModuleUrl('./thread-worker.ts', 'file:///a%20b/dist/batch/threads-executor.js').href,
    'file:///a%20b/dist/batch/thread-worker.js',
  );
});
