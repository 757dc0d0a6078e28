/**
 * `tsmr cluster start/status/stop` with the real coordinator and worker
 * commands: a cluster starts in the background, a second start is refused,
 * `status` finds it without flags, and `stop` leaves no process behind.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isAlive, pollUntil } from './support/poll.ts';
import { repoRoot, runCli } from './support/run-cli.ts';

const commands = ['src/cli/coordinator.ts', 'src/cli/worker.ts'];
const missing = commands.filter((f) => !existsSync(join(repoRoot, f)));
const skip =
  missing.length > 0 &&
  `waits for the coordinator and worker commands (${missing.join(', ')} do not exist yet)`;

test('cluster start, status and stop: every process ends, the state file is gone', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsmr-local-cluster-'));
  const env = { ...process.env, TSMR_CLUSTER_DIR: dir, TSMR_TOKEN: undefined, TSMR_COORDINATOR: undefined };
  t.after(async () => {
    if (existsSync(join(dir, 'cluster.json'))) await runCli(['cluster', 'stop'], { env });
    rmSync(dir, { recursive: true, force: true });
  });
  const started = await runCli(['cluster', 'start', '--workers', '2', '--port', '0'], { env });
  assert.equal(started.code, 0, started.stderr);
  assert.match(
    started.stdout,
    /^tsmr: local cluster ready: coordinator http:\/\/127\.0\.0\.1:\d+, 2 workers/,
  );

  const again = await runCli(['cluster', 'start'], { env });
  assert.equal(again.code, 2);
  assert.match(again.stderr, /a local cluster is already running .*tsmr cluster stop/);

  const listed = await runCli(['cluster', 'status', '--json'], { env });
  assert.equal(listed.code, 0, listed.stderr);
  const { processes } = JSON.parse(listed.stdout) as {
    processes: Array<{ role: string; pid: number; state: string }>;
  };
  assert.deepEqual(
    processes.map((p) => [p.role, p.state]),
    [
      ['supervisor', 'running'],
      ['coordinator', 'running'],
      ['worker', 'running'],
      ['worker', 'running'],
    ],
  );

  const status = await runCli(['status', '--workers'], { env });
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /^coordinator http:\/\/127\.0\.0\.1:\d+: 2 workers \(2 alive\)/);

  const stopped = await runCli(['cluster', 'stop'], { env });
  assert.equal(stopped.code, 0, stopped.stderr);
  for (const p of processes) await pollUntil(`${p.role} ${p.pid} to be gone`, () => !isAlive(p.pid));
  assert.equal(existsSync(join(dir, 'cluster.json')), false);
  assert.equal((await runCli(['cluster', 'status'], { env })).code, 2);
});
