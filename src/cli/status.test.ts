/**
 * `tsmr status` and `tsmr cancel` in a child process against a scripted
 * coordinator on loopback; finding the local cluster through its state file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { writeClusterState } from '../runtime/cluster/cluster-state.ts';
import { startStubCoordinator, stubSnapshot, STUB_JOB_ID } from '../runtime/cluster/client-test-support.ts';
import { TEST_TOKEN } from '../runtime/cluster/test-support.ts';
import type { ClusterStatus } from '../runtime/cluster/wire-status.ts';
import { runCli } from '../../test/support/run-cli.ts';

const now = Date.now();
const status: ClusterStatus = {
  jobs: [
    {
      jobId: STUB_JOB_ID,
      name: 'wordcount',
      state: 'running',
      submittedAt: 500,
      progress: { ...stubSnapshot(2, 3000), failedAttempts: 1 },
      counters: { 'tsmr/MAP_INPUT_RECORDS': 12_345, 'words/long': 7 },
      failures: [
        {
          attemptId: 'm-00001_0',
          worker: 'local-2',
          failedAt: 2500,
          error: { name: 'TsmrError', code: 'TSMR_USER_CODE', message: 'boom at line 3\n    at map' },
        },
      ],
    },
  ],
  workers: ['local-1', 'local-2'].map((workerId, i) => ({
    workerId,
    incarnation: 1,
    state: i === 0 ? ('alive' as const) : ('suspect' as const),
    hostName: 'box',
    pid: 100 + i,
    shuffleUrl: `http://127.0.0.1:${4000 + i}`,
    tsmrVersion: '0.1.0',
    registeredAt: now - 60_000,
    lastHeartbeatAt: now - 2000 - i * 5000,
    slotsTotal: 2,
    slotsBusy: 1,
    attemptsRun: 14,
    attemptsFailed: i,
    mapOutputsHeld: 3,
    shuffleBytesServed: 3 * 2 ** 20,
    averageAttemptMs: 850,
  })),
};

async function setup(t: TestContext) {
  const stub = await startStubCoordinator({ status });
  const dir = mkdtempSync(join(tmpdir(), 'tsmr-status-'));
  t.after(async () => {
    await stub.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const env = { ...process.env, TSMR_CLUSTER_DIR: dir, TSMR_TOKEN: TEST_TOKEN, TSMR_COORDINATOR: stub.url };
  return { stub, env, dir };
}

test('status lists the jobs and, with --workers, each worker; --json gives the status as it came', async (t) => {
  const { stub, env } = await setup(t);
  const r = await runCli(['status', '--workers'], { env });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(lines[0], `coordinator ${stub.url}: 2 workers (1 alive, 1 suspect), jobs: 1 running`);
  assert.match(r.stdout, new RegExp(`^${STUB_JOB_ID} +wordcount +running +map +50% +\\S+ +1$`, 'm'));
  assert.match(
    r.stdout,
    /^worker +state +heartbeat +slots +attempts +failed +avg attempt +map outputs +served$/m,
  );
  assert.match(r.stdout, /^local-1 +alive +\d+\.\d s ago +1\/2 +14 +0 +850 ms +3 +3 MiB$/m);
  assert.match(r.stdout, /^local-2 +suspect +\d+\.\d s ago +1\/2 +14 +1 +850 ms +3 +3 MiB$/m);
  const json = await runCli(['status', '--json'], { env });
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), status);
});

test('status --job shows phases, counters and failed attempts with their messages', async (t) => {
  const { env } = await setup(t);
  const r = await runCli(['status', '--job', STUB_JOB_ID], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^${STUB_JOB_ID} wordcount: running, map phase$`, 'm'));
  assert.match(r.stdout, /^ {2}map +50% +2\/4 tasks +3\.9 KiB +\S+ kB\/s +ETA \d+s$/m);
  assert.match(r.stdout, /^ {2}reduce +0% +0\/4 tasks .* waiting$/m);
  assert.match(r.stdout, /^ {4}tsmr\/MAP_INPUT_RECORDS +12,345$/m);
  assert.match(r.stdout, /^ {4}m-00001_0 on local-2: TSMR_USER_CODE: boom at line 3$/m);
});

test('cancel prints the state; the local cluster is found through its state file without flags', async (t) => {
  const { stub, env, dir } = await setup(t);
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${TEST_TOKEN}\n`, { mode: 0o600 });
  writeClusterState(dir, { url: stub.url, tokenFile, startedAt: now, processes: [] });
  const local = { ...env, TSMR_TOKEN: undefined, TSMR_COORDINATOR: undefined };
  const r = await runCli(['cancel', STUB_JOB_ID], { env: local });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${STUB_JOB_ID}: cancelled\n`);
  assert.deepEqual(stub.cancels, [STUB_JOB_ID]);
  const s = await runCli(['status'], { env: local });
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stdout, new RegExp(`^coordinator ${stub.url}: `));
});
