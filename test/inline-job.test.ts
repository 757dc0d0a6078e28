/**
 * A program that defines a job and runs it in the same module (the seeds'
 * `startup(data, map, reduce)`): real scripts in child processes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from './support/run-cli.ts';

async function runScript(name: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // The scripts import 'tsmr': in this repository that is the sources, under the tsmr-source condition.
  const script = join(repoRoot, 'test/fixtures/scripts', name);
  const child = spawn(process.execPath, ['--conditions=tsmr-source', script], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

test('a module that defines a job and awaits runJob at its top level runs it in-process (workers: 0)', async () => {
  const r = await runScript('inline-in-process.ts');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [
    ['a', 2],
    ['b', 1],
  ]);
});

test('on worker threads, the job of a module that guards its run with import.meta.main is found without an export', async () => {
  const r = await runScript('inline-threads-guarded.ts');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [
    ['w0', 667],
    ['w1', 667],
    ['w2', 666],
    ['x', 2000],
  ]);
});

test('an unguarded top-level run on worker threads fails at once with a clear error, not a hang', async () => {
  const r = await runScript('inline-threads-unguarded.ts');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /TSMR_JOB_NOT_IMPORTABLE/);
  assert.match(r.stderr, /starts a job when it is imported/);
  assert.match(r.stderr, /if \(import\.meta\.main\)/);
  assert.match(r.stderr, /workers: 0/);
  assert.doesNotMatch(r.stderr, /unsettled top-level await/);
});
