import assert from 'node:assert/strict';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { ErrorCode, isTsmrError } from '../../errors.ts';
import type { ProgressSnapshot } from '../../engine/job-report.ts';
import { runJob } from '../run-job.ts';
import { counting, hidden } from './fixtures/client-jobs.ts';
import { startStubCoordinator, stubSnapshot, STUB_JOB_ID } from './client-test-support.ts';
import type { StubScript } from './client-test-support.ts';
import { TEST_TOKEN } from './test-support.ts';

const fixture = new URL('./fixtures/client-jobs.ts', import.meta.url).pathname;

async function stub(t: TestContext, script: StubScript = {}) {
  const s = await startStubCoordinator(script);
  t.after(() => s.close());
  return s;
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (error) {
    return error as Error;
  }
  assert.fail('it did not reject');
}

test('runJob with a coordinator: one upload, one submission with absolute paths, progress events, the report', async (t) => {
  const progress = [stubSnapshot(1, 2000), stubSnapshot(4, 3000)];
  const s = await stub(t, { progress });
  const seen: ProgressSnapshot[] = [];
  const handle = runJob(fixture, {
    coordinator: s.url,
    token: TEST_TOKEN,
    input: 'in/*.txt',
    output: 'out/wc',
    reducers: 3,
    params: { lang: 'en' },
    files: ['stop.txt#stop'],
  });
  handle.on('progress', (p) => seen.push(p));
  const report = await handle.done;
  assert.equal(report.status, 'succeeded');
  assert.equal(handle.report, report);
  assert.deepEqual(seen, progress);
  assert.equal(s.uploads.length, 1);
  assert.equal(s.submissions.length, 1);
  const [sub] = s.submissions;
  assert.deepEqual(sub.job, { kind: 'module', bundleSha256: s.uploads[0], exportName: 'counting' });
  assert.deepEqual(sub.options.input, [resolve('in/*.txt')]);
  assert.equal(sub.options.output, resolve('out/wc'));
  assert.deepEqual(sub.options.files, [`${resolve('stop.txt')}#stop`]);
  assert.equal(sub.options.reducers, 3);
  assert.deepEqual(sub.options.params, { lang: 'en' });
});

test('a job object is shipped by its export name; one its module does not export is refused with advice', async (t) => {
  const s = await stub(t);
  await runJob(counting, { coordinator: s.url, token: TEST_TOKEN, input: '/in', output: '/out' }).done;
  assert.equal(s.submissions[0].job.kind === 'module' && s.submissions[0].job.exportName, 'counting');
  const error = await rejection(
    runJob(hidden[0], { coordinator: s.url, token: TEST_TOKEN, input: '/in', output: '/out' }).done,
  );
  assert.ok(isTsmrError(error) && error.code === ErrorCode.JOB_NOT_IMPORTABLE, String(error));
  assert.match(error.message, /is not exported: .*export default defineJob/);
  assert.equal(s.submissions.length, 1, 'nothing more was submitted');
});

test('streaming commands go as they are, with no upload', async (t) => {
  const s = await stub(t);
  await runJob(
    { kind: 'streaming', mapper: 'tr a b', reducer: 'uniq -c' },
    { coordinator: s.url, token: TEST_TOKEN, input: '/in', output: '/out' },
  ).done;
  assert.deepEqual(s.uploads, []);
  assert.deepEqual(s.submissions[0].job, { kind: 'streaming', mapper: 'tr a b', reducer: 'uniq -c' });
});

test('a lost SubmitJob answer is retried with the same submission id', async (t) => {
  const s = await stub(t, { submitFailures: 2 });
  await runJob(fixture, { coordinator: s.url, token: TEST_TOKEN, input: '/in', output: '/out' }).done;
  assert.equal(s.submissions.length, 3);
  assert.equal(new Set(s.submissions.map((x) => x.submissionId)).size, 1);
});

test('a failed job rejects with its error and keeps its report', async (t) => {
  const s = await stub(t, {
    outcome: 'failed',
    error: { name: 'TsmrError', code: 'TSMR_TASK_FAILED', message: 'task m-00001 failed 4 times' },
  });
  const handle = runJob(fixture, { coordinator: s.url, token: TEST_TOKEN, input: '/in', output: '/out' });
  const error = await rejection(handle.done);
  assert.ok(isTsmrError(error) && error.code === ErrorCode.TASK_FAILED);
  assert.equal(error.message, 'task m-00001 failed 4 times');
  assert.equal(handle.report?.status, 'failed');
});

test('the signal cancels the job on the coordinator; done rejects with TSMR_CANCELLED', async (t) => {
  const s = await stub(t, { outcome: 'cancel', progress: [stubSnapshot(1, 2000)] });
  const abort = new AbortController();
  const handle = runJob(fixture, {
    coordinator: s.url,
    token: TEST_TOKEN,
    input: '/in',
    output: '/out',
    signal: abort.signal,
  });
  await once(handle, 'progress');
  abort.abort(new Error('Ctrl-C'));
  const error = await rejection(handle.done);
  assert.ok(isTsmrError(error) && error.code === ErrorCode.CANCELLED, String(error));
  assert.deepEqual(s.cancels, [STUB_JOB_ID]);
  assert.equal(handle.report?.status, 'cancelled');
});

test('a wrong token and an unreachable coordinator are one clear error naming the URL', async (t) => {
  const s = await stub(t);
  const wrong = await rejection(
    runJob(fixture, { coordinator: s.url, token: 'x'.repeat(32), input: '/in', output: '/out' }).done,
  );
  assert.ok(isTsmrError(wrong) && wrong.code === ErrorCode.AUTH, String(wrong));
  assert.match(wrong.message, new RegExp(`the coordinator at ${s.url} refused the cluster token`));
  await s.close();
  const gone = await rejection(
    runJob(fixture, { coordinator: s.url, token: TEST_TOKEN, input: '/in', output: '/out' }).done,
  );
  assert.ok(isTsmrError(gone) && gone.code === ErrorCode.UNAVAILABLE, String(gone));
  assert.match(gone.message, new RegExp(`the coordinator at ${s.url} is not reachable .*ECONNREFUSED`));
});

test('local-mode options are refused before anything is sent', async (t) => {
  const s = await stub(t);
  const base = { coordinator: s.url, token: TEST_TOKEN, input: '/in', output: '/out' };
  for (const [options, pattern] of [
    [{ ...base, workers: 2 }, /workers: local-mode options/],
    [{ ...base, verify: true, tmpDir: join('/tmp') }, /verify, tmpDir: local-mode options/],
  ] as const) {
    const error = await rejection(runJob(fixture, options).done);
    assert.ok(isTsmrError(error) && error.code === ErrorCode.USAGE, String(error));
    assert.match(error.message, pattern);
  }
  assert.deepEqual(s.uploads, []);
  assert.deepEqual(s.submissions, []);
});
