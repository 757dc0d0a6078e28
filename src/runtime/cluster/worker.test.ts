import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { hostname } from 'node:os';
import { ErrorCode, isTsmrError } from '../../errors.ts';
import type { MapOutputIndex, TaskResult } from '../../task/messages.ts';
import { bundleJob } from './job-bundle.ts';
import { readMerged } from './shuffle-test-support.ts';
import { deriveJobKey } from './shuffle-auth.ts';
import { fetchSegments } from './shuffle-fetcher.ts';
import type { StubCoordinator } from './stub-coordinator.ts';
import { TEST_TOKEN, haveOpenssl, selfSignedCert, withDeadline } from './test-support.ts';
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

/** A bundled job whose map never returns (until its thread is terminated). */
async function hangingJob(t: Parameters<typeof tempDir>[0], stub: StubCoordinator): Promise<string> {
  const dir = tempDir(t, 'tsmr-job-');
  const path = join(dir, 'hang.ts');
  writeFileSync(
    path,
    "import { defineJob } from 'tsmr';\n" +
      'export default defineJob({\n' +
      '  async map() {\n    await new Promise(() => {});\n  },\n' +
      '  reduce() {},\n});\n',
  );
  const bundle = await bundleJob(path);
  stub.bundles.set(bundle.sha256, bundle.bytes);
  return bundle.sha256;
}

async function hangingLease(t: Parameters<typeof tempDir>[0], stub: StubCoordinator, index: number) {
  const sha256 = await hangingJob(t, stub);
  const file = join(tempDir(t, 'tsmr-input-'), 'in.txt');
  writeFileSync(file, TEXT_A);
  const lease = await mapLease(file, index, 1);
  return { ...lease, job: { kind: 'module' as const, bundleSha256: sha256, exportName: 'default' } };
}

function isRunning(stub: StubCoordinator, workerId: string, attemptId: string, incarnation = 1): boolean {
  const last = stub.heartbeats.findLast((h) => h.worker.workerId === workerId);
  return (
    last !== undefined &&
    last.worker.incarnation === incarnation &&
    last.running.some((r) => r.attemptId === attemptId)
  );
}

test('a kill command (session or heartbeat answer) stops a running attempt and frees its slot', async (t) => {
  const stub = await startStub(t);
  const { worker, workDir } = await startTestWorker(t, stub);
  stub.lease(worker.id, await hangingLease(t, stub, 0));
  await stub.until(() => isRunning(stub, worker.id, 'm-00000_0'), 'the attempt runs');
  stub.send(worker.id, {
    case: 'kill',
    value: { jobId: JOB_ID, attemptId: 'm-00000_0', reason: 'test kill' },
  });
  const { outcome } = await outcomeOf(stub, 'm-00000_0');
  assert.equal(outcome.ok, false);
  assert.equal(!outcome.ok && outcome.error.code, ErrorCode.CANCELLED);
  assert.match(!outcome.ok ? outcome.error.message : '', /was killed: test kill/);
  await stub.until(() => !isRunning(stub, worker.id, 'm-00000_0'), 'heartbeats stop listing it');
  assert.equal(existsSync(join(workDir, 'jobs', JOB_ID, 'attempts', 'm-00000_0')), false, 'scratch deleted');

  stub.lease(worker.id, await hangingLease(t, stub, 1));
  await stub.until(() => isRunning(stub, worker.id, 'm-00001_0'), 'the second attempt runs');
  stub.onNextHeartbeat(worker.id, { kill: [{ jobId: JOB_ID, attemptId: 'm-00001_0' }] });
  const second = await outcomeOf(stub, 'm-00001_0');
  assert.equal(!second.outcome.ok && second.outcome.error.code, ErrorCode.CANCELLED);
  await stub.until(
    () => stub.polls.filter((p) => p.freeSlots === 1).length >= 3,
    'the worker polls again with its slot free',
  );
});

test('a fenced worker kills its attempts, deletes its map outputs and registers with a new incarnation', async (t) => {
  const stub = await startStub(t);
  const w = await startTestWorker(t, stub, { slots: 2 });
  const { worker, workDir } = w;
  const { attemptId, index } = await runMap(t, stub, w, 0, TEXT_A, 1);
  const outputDir = join(workDir, 'jobs', JOB_ID, 'attempts', attemptId);
  assert.ok(existsSync(outputDir));
  stub.lease(worker.id, await hangingLease(t, stub, 1));
  await stub.until(() => isRunning(stub, worker.id, 'm-00001_0'), 'the hanging attempt runs');

  stub.fence(worker.id);
  await stub.until(() => stub.registrations.length === 2, 'the worker registers again');
  await stub.until(() => worker.incarnation() === 2, 'the new incarnation');
  await stub.until(
    () => stub.heartbeats.some((h) => h.worker.incarnation === 2),
    'heartbeats of the new incarnation',
  );
  const beat = stub.heartbeats.find((h) => h.worker.incarnation === 2)!;
  assert.deepEqual(beat.running, [], 'the running attempt was killed');
  assert.deepEqual(beat.mapOutputs, [], 'the old map output is forgotten');
  assert.deepEqual(stub.registrations[1].mapOutputs, []);
  assert.equal(existsSync(outputDir), false, 'and deleted');
  assert.equal(
    stub.outcomes.filter((o) => o.attemptId === 'm-00001_0' && o.incarnation === 2).length,
    0,
    'the killed attempt is not reported under the new incarnation',
  );
  const dir = tempDir(t, 'tsmr-fetch-');
  await assert.rejects(
    fetchSegments([sourceOf(w, attemptId, index, 0)], {
      jobKey: deriveJobKey(TEST_TOKEN, JOB_ID),
      dir,
      retries: 0,
    }),
    (e: unknown) => isTsmrError(e) && e.code === ErrorCode.AUTH,
    'the shuffle server no longer knows the job',
  );
  await stub.until(
    () => stub.sessions.some((s) => s.incarnation === 2 && !s.ended),
    'a session of incarnation 2',
  );
  // The new incarnation takes leases.
  await runMap(t, stub, w, 2, TEXT_B, 1);
});

test('an input that cannot be read fails the attempt with the worker id, the path and the OS error', async (t) => {
  const stub = await startStub(t);
  const { worker } = await startTestWorker(t, stub, { workerId: 'w-reader' });
  const missing = join(tempDir(t, 'tsmr-input-'), 'gone.txt');
  stub.lease(worker.id, await mapLease(missing, 0, 1));
  const { outcome } = await outcomeOf(stub, 'm-00000_0');
  assert.equal(outcome.ok, false);
  if (outcome.ok) return;
  assert.match(outcome.error.message, /w-reader/);
  assert.ok(outcome.error.message.includes(missing), outcome.error.message);
  assert.match(outcome.error.message, /ENOENT/);
  assert.equal(outcome.error.details?.workerId, 'w-reader');
  // Another worker may see the shared file system whole: retriable there.
  assert.equal(outcome.retriable, true);
});

test('a corrupt segment on the source worker’s disk gives a fetch-failure report naming the map attempt', async (t) => {
  const stub = await startStub(t);
  const a = await startTestWorker(t, stub, { workerId: 'w-a' });
  const b = await startTestWorker(t, stub, { workerId: 'w-b' });
  const { attemptId, index } = await runMap(t, stub, a, 0, TEXT_A, 1);
  const data = join(a.workDir, 'jobs', JOB_ID, 'attempts', attemptId, `${attemptId}.data`);
  const bytes = readFileSync(data);
  const { offset, length } = index.partitions[0];
  bytes[offset + Math.floor(length / 2)] ^= 0xff;
  writeFileSync(data, bytes);

  stub.lease(
    b.worker.id,
    await reduceLease(0, 1, [sourceOn(a.worker, attemptId, index, 0)], tempDir(t, 'tsmr-out-')),
  );
  const { outcome } = await outcomeOf(stub, 'r-00000_0');
  assert.equal(outcome.ok, false);
  assert.equal(stub.fetchFailures.length, 1);
  const [report] = stub.fetchFailures;
  assert.deepEqual(
    {
      worker: report.worker,
      reduce: report.reduceAttemptId,
      task: report.mapTaskId,
      attempt: report.mapAttemptId,
    },
    {
      worker: { workerId: 'w-b', incarnation: b.worker.incarnation() },
      reduce: 'r-00000_0',
      task: 'm-00000',
      attempt: attemptId,
    },
  );
  assert.equal(report.error?.code, ErrorCode.CORRUPT_DATA);
  if (outcome.ok) return;
  const failed = outcome.error.details?.failedMapOutputs as Array<{ mapAttemptId: string }>;
  assert.deepEqual(
    failed.map((f) => f.mapAttemptId),
    [attemptId],
  );
});

test('a coordinator that cannot be reached fails startWorker with an error naming its URL', async (t) => {
  const stub = await startStub(t);
  const url = stub.url;
  await stub.close();
  const error = await startTestWorker(t, stub, { registerTimeoutMs: 300 }).then(
    () => assert.fail('startWorker resolved'),
    (e: unknown) => e,
  );
  assert.ok(isTsmrError(error), String(error));
  assert.equal(error.code, ErrorCode.IO);
  assert.ok(error.message.includes(`cannot reach the coordinator at ${url}`), error.message);
});

test('/metrics on the shuffle port counts attempts, outputs and bytes served, and passes promtool', async (t) => {
  const stub = await startStub(t);
  const a = await startTestWorker(t, stub, { workerId: 'w-a', slots: 2 });
  const b = await startTestWorker(t, stub, { workerId: 'w-b' });
  const { attemptId, index } = await runMap(t, stub, a, 0, TEXT_A, 1);
  stub.lease(
    b.worker.id,
    await reduceLease(0, 1, [sourceOn(a.worker, attemptId, index, 0)], tempDir(t, 'tsmr-out-')),
  );
  await succeeded(stub, 'r-00000_0');
  stub.lease(a.worker.id, await mapLease(join(tempDir(t), 'missing.txt'), 1, 1));
  await outcomeOf(stub, 'm-00001_0');

  const res = await fetch(`${a.worker.shuffleUrl}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const value = (name: string) =>
    Number(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
  assert.equal(value('tsmr_worker_slots'), 2);
  assert.equal(value('tsmr_worker_slots_busy'), 0);
  assert.equal(value('tsmr_worker_attempts_total{kind="map"}'), 2);
  assert.equal(value('tsmr_worker_attempts_failed_total{kind="map"}'), 1);
  assert.equal(value('tsmr_worker_attempts_total{kind="reduce"}'), 0);
  assert.equal(value('tsmr_worker_map_outputs'), 1);
  assert.equal(value('tsmr_worker_shuffle_bytes_served_total'), index.partitions[0].length);
  assert.equal(value('tsmr_worker_incarnation'), a.worker.incarnation());
  assert.equal(value('tsmr_worker_fetch_failures_total'), 0);

  const lint = spawnSync('promtool', ['check', 'metrics'], { input: text });
  if (lint.error !== undefined) {
    t.skip('promtool is not installed (apt-get install prometheus)');
    return;
  }
  assert.equal(lint.status, 0, `promtool check metrics: ${String(lint.stdout)}${String(lint.stderr)}`);
});

test('a reregister command on the session starts a new incarnation', async (t) => {
  const stub = await startStub(t);
  const { worker } = await startTestWorker(t, stub);
  await stub.until(() => stub.sessions.length === 1, 'the session opens');
  stub.send(worker.id, { case: 'reregister', value: { reason: 'declared dead after 10 s of silence' } });
  await stub.until(() => worker.incarnation() === 2, 'the new incarnation');
  await stub.until(() => stub.sessions.some((s) => s.incarnation === 2), 'its session');
  assert.ok(stub.sessions[0].ended);
});

test('a discarded job’s map outputs and scratch are deleted (session command and heartbeat answer)', async (t) => {
  const stub = await startStub(t);
  const w = await startTestWorker(t, stub);
  const jobFiles = join(w.workDir, 'jobs', JOB_ID);
  const held = () => stub.heartbeats.at(-1)?.mapOutputs.length ?? 0;

  await runMap(t, stub, w, 0, TEXT_A, 1);
  assert.ok(existsSync(jobFiles));
  await stub.until(() => held() === 1, 'a heartbeat lists the output');
  stub.send(w.worker.id, { case: 'discardJob', value: { jobId: JOB_ID } });
  await stub.until(() => held() === 0, 'heartbeats list no output');
  assert.equal(existsSync(jobFiles), false);

  await runMap(t, stub, w, 1, TEXT_B, 1);
  await stub.until(() => held() === 1, 'a heartbeat lists the new output');
  stub.onNextHeartbeat(w.worker.id, { discardJobs: [JOB_ID] });
  await stub.until(() => held() === 0 && !existsSync(jobFiles), 'the heartbeat answer discards it');
});

test('a drained worker finishes (and reports) its running attempt before it closes', async (t) => {
  const stub = await startStub(t);
  const { worker } = await startTestWorker(t, stub);
  stub.lease(worker.id, await hangingLease(t, stub, 0));
  await stub.until(() => isRunning(stub, worker.id, 'm-00000_0'), 'the attempt runs');
  const polls = stub.polls.length;
  let closed = false;
  void worker.closed.then(() => (closed = true));
  stub.send(worker.id, { case: 'drain', value: { reason: 'test drain' } });
  const beats = stub.heartbeats.length;
  await stub.until(() => stub.heartbeats.length >= beats + 3, 'heartbeats go on while the attempt runs');
  assert.equal(closed, false);
  assert.ok(isRunning(stub, worker.id, 'm-00000_0'));
  stub.send(worker.id, {
    case: 'kill',
    value: { jobId: JOB_ID, attemptId: 'm-00000_0', reason: 'test kill' },
  });
  await withDeadline(worker.closed, 20_000, 'the drained worker closes');
  assert.equal((await outcomeOf(stub, 'm-00000_0')).outcome.ok, false);
  assert.equal(stub.polls.length, polls, 'no poll after the drain');
});

test('without --host the shuffle server listens on the address that reaches the coordinator', async (t) => {
  const stub = await startStub(t);
  const { worker } = await startTestWorker(t, stub, { host: undefined });
  assert.match(worker.shuffleUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal((await fetch(`${worker.shuffleUrl}/metrics`)).status, 200);
  // Without a token, nothing but loopback (refused before anything listens).
  await assert.rejects(
    startTestWorker(t, stub, { host: '0.0.0.0', token: undefined }),
    (e: unknown) => isTsmrError(e) && e.code === ErrorCode.USAGE && /without a cluster token/.test(e.message),
  );
});

test('over TLS: an https coordinator, and reduce sources fetched from an https shuffle server', async (t) => {
  if (!haveOpenssl()) return t.skip('openssl is not installed');
  const { cert, key } = selfSignedCert();
  const stub = await startStub(t, { tls: { cert, key } });
  assert.match(stub.url, /^https:/);
  const tls = { ca: cert, cert, key };
  const a = await startTestWorker(t, stub, { workerId: 'w-a', tls });
  const b = await startTestWorker(t, stub, { workerId: 'w-b', tls });
  assert.match(a.worker.shuffleUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
  const m0 = await runMap(t, stub, a, 0, TEXT_A, 1);
  const out = tempDir(t, 'tsmr-out-');
  stub.lease(b.worker.id, await reduceLease(0, 1, [sourceOn(a.worker, m0.attemptId, m0.index, 0)], out));
  const result = await succeeded(stub, 'r-00000_0');
  const lines = readFileSync(result.output!.files[0], 'latin1').split('\n').filter(Boolean);
  assert.deepEqual(
    lines,
    wordCounts(TEXT_A).map(([w, n]) => `${w}\t${n}`),
  );
});
