import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { hostname } from 'node:os';
import { ErrorCode, isTsmrError } from '../../errors.ts';
import type { MapOutputIndex, TaskResult } from '../../task/messages.ts';
import { readMerged } from './shuffle-test-support.ts';
import { deriveJobKey } from './shuffle-auth.ts';
import { fetchSegments } from './shuffle-fetcher.ts';
import type { StubCoordinator } from './stub-coordinator.ts';
import { TEST_TOKEN, withDeadline } from './test-support.ts';
import { tsmrVersion } from './tsmr-version.ts';
import {
  JOB_ID,
  mapLease,
  reduceLease,
  sourceOn,
  startStub,
  startTestWorker,
  tempDir,
  wordCounts,
} from './worker-test-support.ts';
import type { TestWorker } from './worker-test-support.ts';

const TEXT_A = 'the cat sat on the mat\nthe dog ate the cat\n';
const TEXT_B = 'a dog and a cat\nthe end\n';

/** The outcome of an attempt as the stub received it. */
async function outcomeOf(stub: StubCoordinator, attemptId: string) {
  await stub.until(() => stub.outcomes.some((o) => o.attemptId === attemptId), `the outcome of ${attemptId}`);
  return stub.outcomes.find((o) => o.attemptId === attemptId)!;
}

async function succeeded(stub: StubCoordinator, attemptId: string): Promise<TaskResult> {
  const { outcome } = await outcomeOf(stub, attemptId);
  assert.ok(outcome.ok, `${attemptId} failed: ${outcome.ok ? '' : JSON.stringify(outcome.error)}`);
  return outcome.result;
}

/** Runs a word-count map of `text` on `w`, returns its output index. */
async function runMap(
  t: Parameters<typeof tempDir>[0],
  stub: StubCoordinator,
  w: TestWorker,
  index: number,
  text: string,
  R: number,
) {
  const file = join(tempDir(t, 'tsmr-input-'), `in-${index}.txt`);
  writeFileSync(file, text);
  stub.lease(w.worker.id, await mapLease(file, index, R));
  const attemptId = `m-${String(index).padStart(5, '0')}_0`;
  return { attemptId, index: (await succeeded(stub, attemptId)).mapOutput! };
}

test('a worker registers, holds its session and sends heartbeats', async (t) => {
  const stub = await startStub(t);
  const { worker } = await startTestWorker(t, stub, { slots: 2, workerId: 'w-one' });
  assert.equal(worker.id, 'w-one');
  assert.equal(worker.incarnation(), 1);
  assert.match(worker.shuffleUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  const [reg] = stub.registrations;
  assert.equal(reg.workerId, 'w-one');
  assert.equal(reg.tsmrVersion, tsmrVersion());
  assert.equal(reg.shuffleUrl, worker.shuffleUrl);
  assert.equal(reg.slots, 2);
  assert.equal(reg.hostName, hostname());
  assert.equal(reg.pid, process.pid);
  assert.deepEqual(reg.mapOutputs, []);
  await stub.until(() => stub.sessions.length === 1, 'the session opens');
  await stub.until(() => stub.heartbeats.length >= 3, 'three heartbeats');
  assert.deepEqual(stub.heartbeats[0].worker, { workerId: 'w-one', incarnation: 1 });
  assert.deepEqual(stub.heartbeats[0].running, []);
  await stub.until(() => stub.polls.length >= 1, 'a poll');
  assert.deepEqual(stub.polls[0], { workerId: 'w-one', incarnation: 1, freeSlots: 2, pollSeq: 1 });

  await worker.close();
  await worker.closed;
  await stub.until(() => stub.sessions[0].ended, 'the session ends when the worker closes');
});

test('a map lease of a bundled job runs; its output is served by the shuffle server and holds the map’s pairs', async (t) => {
  const stub = await startStub(t);
  const w = await startTestWorker(t, stub);
  const R = 2;
  const { attemptId, index } = await runMap(t, stub, w, 0, TEXT_A, R);
  assert.equal(index.partitions.length, R);
  assert.equal(stub.bundleGets, 1);

  await stub.until(
    () => stub.heartbeats.some((h) => h.mapOutputs.some((m) => m.mapAttemptId === attemptId)),
    'a heartbeat lists the map output',
  );
  const fetched: Array<[unknown, unknown[]]> = [];
  for (let p = 0; p < R; p++) {
    const dir = tempDir(t, 'tsmr-fetch-');
    const refs = await fetchSegments([{ ...sourceOf(w, attemptId, index, p) }], {
      jobKey: deriveJobKey(TEST_TOKEN, JOB_ID),
      dir,
    });
    fetched.push(...readMerged(refs, dir));
  }
  const counts = fetched.map(([k, vs]) => [k, (vs as number[]).reduce((a, b) => a + b, 0)]);
  counts.sort(([a], [b]) => Buffer.compare(Buffer.from(String(a)), Buffer.from(String(b))));
  assert.deepEqual(counts, wordCounts(TEXT_A));
  // A second map of the same job uses the cached bundle.
  await runMap(t, stub, w, 1, TEXT_B, R);
  assert.equal(stub.bundleGets, 1);
});

function sourceOf(w: TestWorker, mapAttemptId: string, index: MapOutputIndex, partition: number) {
  const { length, records, crc32 } = index.partitions[partition];
  return {
    url: w.worker.shuffleUrl,
    jobId: JOB_ID,
    mapTaskId: mapAttemptId.split('_')[0],
    mapAttemptId,
    partition,
    length,
    records,
    crc32,
  };
}

test('a reduce lease whose sources are on two workers fetches them and writes the right part file', async (t) => {
  const stub = await startStub(t);
  const a = await startTestWorker(t, stub, { workerId: 'w-a' });
  const b = await startTestWorker(t, stub, { workerId: 'w-b' });
  const R = 2;
  const m0 = await runMap(t, stub, a, 0, TEXT_A, R);
  const m1 = await runMap(t, stub, b, 1, TEXT_B, R);
  const out = tempDir(t, 'tsmr-out-');
  const lines: string[] = [];
  for (let p = 0; p < R; p++) {
    const sources = [
      sourceOn(a.worker, m0.attemptId, m0.index, p),
      sourceOn(b.worker, m1.attemptId, m1.index, p),
    ];
    const lease = await reduceLease(p, R, sources, out);
    stub.lease(a.worker.id, lease);
    const result = await succeeded(stub, `r-0000${p}_0`);
    assert.equal(result.checksumsVerified, 2);
    const [file] = result.output!.files;
    assert.equal(file, join(lease.output.kind === 'file' ? lease.output.dir : '', `part-r-0000${p}`));
    lines.push(...readFileSync(file, 'latin1').split('\n').filter(Boolean));
  }
  lines.sort((x, y) => Buffer.compare(Buffer.from(x, 'latin1'), Buffer.from(y, 'latin1')));
  assert.deepEqual(
    lines,
    wordCounts(TEXT_A + TEXT_B).map(([w, n]) => `${w}\t${n}`),
  );
});

test('a version refusal rejects startWorker with the coordinator’s message', async (t) => {
  const message = 'worker tsmr 9.9.0 cannot join a coordinator of tsmr 0.1.0: install tsmr 0.1.x';
  const stub = await startStub(t, { refuse: message });
  const error = await startTestWorker(t, stub, { version: '9.9.0' }).then(
    () => assert.fail('startWorker resolved'),
    (e: unknown) => e,
  );
  assert.ok(isTsmrError(error), String(error));
  assert.equal(error.code, ErrorCode.REFUSED);
  assert.equal(error.message, message);
  assert.equal(stub.registrations[0].tsmrVersion, '9.9.0');
  assert.equal(stub.sessions.length, 0);
});

test('a drain command makes `closed` settle', async (t) => {
  const stub = await startStub(t);
  const { worker } = await startTestWorker(t, stub);
  await stub.until(() => stub.sessions.length === 1, 'the session opens');
  stub.send(worker.id, { case: 'drain', value: { reason: 'coordinator shutdown' } });
  await withDeadline(worker.closed, 20_000, 'the drained worker closes');
  await stub.until(() => stub.sessions[0].ended, 'the session ends');
  await assert.rejects(fetch(`${worker.shuffleUrl}/metrics`), 'the shuffle server is closed');
});
