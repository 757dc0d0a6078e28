/**
 * `tsmr submit` in a child process against a scripted coordinator on
 * loopback (`client-test-support.ts`): what it sends, what it prints, its
 * exit codes, and Ctrl-C.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { startStubCoordinator, stubSnapshot, STUB_JOB_ID } from '../runtime/cluster/client-test-support.ts';
import type { StubScript } from '../runtime/cluster/client-test-support.ts';
import { TEST_TOKEN } from '../runtime/cluster/test-support.ts';
import { repoRoot, runCli, startCli } from '../../test/support/run-cli.ts';
import { pollUntil } from '../../test/support/poll.ts';

async function setup(t: TestContext, script: StubScript = {}) {
  const stub = await startStubCoordinator(script);
  const dir = mkdtempSync(join(tmpdir(), 'tsmr-submit-'));
  t.after(async () => {
    await stub.close();
    rmSync(dir, { recursive: true, force: true });
  });
  // No local cluster and no coordinator from the environment: only what the test gives.
  const env = { ...process.env, TSMR_CLUSTER_DIR: dir, TSMR_TOKEN: TEST_TOKEN, TSMR_COORDINATOR: stub.url };
  return { stub, env };
}

const job = 'test/fixtures/jobs/count-words.ts';

test('without --wait: one upload, one submission with absolute paths, the job id on stdout', async (t) => {
  const { stub, env } = await setup(t);
  const r = await runCli(
    [
      'submit',
      job,
      '-i',
      'in/',
      '-o',
      'out/wc',
      '-r',
      '3',
      '-p',
      'a=b',
      '--no-speculation',
      '--max-attempts',
      '2',
    ],
    { env },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${STUB_JOB_ID}\n`);
  assert.match(
    r.stderr,
    new RegExp(`submitted to ${stub.url}; follow it with: tsmr status --job ${STUB_JOB_ID}`),
  );
  assert.equal(stub.uploads.length, 1);
  assert.equal(stub.watches, 0);
  const [s] = stub.submissions;
  assert.deepEqual(s.job, { kind: 'module', bundleSha256: stub.uploads[0], exportName: 'default' });
  assert.deepEqual(s.options.input, [join(repoRoot, 'in')]);
  assert.equal(s.options.output, join(repoRoot, 'out/wc'));
  assert.equal(s.options.reducers, 3);
  assert.equal(s.options.maxAttempts, 2);
  assert.equal(s.options.speculation, false);
  assert.deepEqual(s.options.params, { a: 'b' });
});

test('--wait prints the report and exits 0; a failed job exits 1 with its error', async (t) => {
  const ok = await setup(t, { progress: [stubSnapshot(2, 2000), stubSnapshot(4, 3000)] });
  const r = await runCli(['submit', job, '-i', '/in', '-o', '/out', '--wait'], { env: ok.env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^tsmr: job wordcount succeeded in 4\.0 s/);
  assert.match(r.stderr, /map 100% 4\/4 tasks/, 'the plain progress lines of tsmr run');
  const bad = await setup(t, {
    outcome: 'failed',
    error: { name: 'TsmrError', code: 'TSMR_TASK_FAILED', message: 'task m-00001 failed 4 times' },
  });
  const f = await runCli(['submit', job, '-i', '/in', '-o', '/out', '--wait', '--json'], { env: bad.env });
  assert.equal(f.code, 1, f.stderr);
  assert.equal(JSON.parse(f.stdout).status, 'failed');
  assert.match(f.stderr, /TSMR_TASK_FAILED: task m-00001 failed 4 times/);
});

test('Ctrl-C during --wait cancels the job on the coordinator and exits 130', async (t) => {
  const { stub, env } = await setup(t, { outcome: 'cancel', progress: [stubSnapshot(1, 2000)] });
  const child = startCli(['submit', job, '-i', '/in', '-o', '/out', '--wait'], { env });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  await pollUntil('the job to be watched', () => stub.watches > 0);
  child.kill('SIGINT');
  const [code] = (await once(child, 'close')) as [number | null];
  assert.equal(code, 130, stderr);
  assert.deepEqual(stub.cancels, [STUB_JOB_ID]);
  assert.match(stderr, /TSMR_CANCELLED/);
});

test('a wrong token exits 2 and an unreachable coordinator exits 1, each with one line naming the URL', async (t) => {
  const { stub, env } = await setup(t);
  const wrong = await runCli(['submit', job, '-i', '/in', '-o', '/out'], {
    env: { ...env, TSMR_TOKEN: 'y'.repeat(32) },
  });
  assert.equal(wrong.code, 2, wrong.stderr);
  assert.equal(
    wrong.stderr,
    `tsmr: error TSMR_AUTH: the coordinator at ${stub.url} refused the cluster token: ` +
      'give its token with --token-file <file> or TSMR_TOKEN\n',
  );
  await stub.close();
  const gone = await runCli(['submit', job, '-i', '/in', '-o', '/out'], { env });
  assert.equal(gone.code, 1, gone.stderr);
  assert.match(
    gone.stderr,
    new RegExp(`^tsmr: error TSMR_UNAVAILABLE: .*the coordinator at ${stub.url} is not reachable`),
  );
  assert.equal(gone.stderr.split('\n').length, 2, 'one line, no stack');
});

test('bad usage exits 2 before anything is sent', async (t) => {
  const { stub, env } = await setup(t);
  const none = await runCli(['submit', '-i', '/in', '-o', '/out'], { env });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /missing job: tsmr submit <job.ts>/);
  const noCoordinator = await runCli(['submit', job, '-i', '/in', '-o', '/out'], {
    env: { ...env, TSMR_COORDINATOR: undefined },
  });
  assert.equal(noCoordinator.code, 2);
  assert.match(noCoordinator.stderr, /no coordinator: give --coordinator <url>, set TSMR_COORDINATOR/);
  assert.deepEqual(stub.submissions, []);
});
