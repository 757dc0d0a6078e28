/**
 * `tsmr cluster start/status/stop` with the real coordinator and worker
 * commands: a cluster starts in the background, a second start is refused,
 * `status` finds it without flags, and `stop` leaves no process behind.
 */
import assert from 'node:assert/strict';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { runJob } from '../src/index.ts';
import { ensureCorpusDir } from '../bench/corpus.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isAlive, pollUntil } from './support/poll.ts';
import { repoRoot, runCli } from './support/run-cli.ts';

test('cluster start, status and stop: every process ends, the state file is gone', async (t) => {
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

/** The `part-*` files of `dir`, name → bytes. */
function parts(dir: string): Map<string, Buffer> {
  return new Map(
    readdirSync(dir)
      .filter((f) => f.startsWith('part-'))
      .sort()
      .map((f) => [f, readFileSync(join(dir, f))]),
  );
}

test('the README walk-through (start, submit --wait, status, stop), and --chaos: a worker SIGKILLed and restarted, the same output', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsmr-local-cluster-'));
  const env = { ...process.env, TSMR_CLUSTER_DIR: dir, TSMR_TOKEN: undefined, TSMR_COORDINATOR: undefined };
  t.after(async () => {
    if (existsSync(join(dir, 'cluster.json'))) await runCli(['cluster', 'stop'], { env });
    rmSync(dir, { recursive: true, force: true });
  });
  const input = join(await ensureCorpusDir(), 'brown');
  const out = (name: string) => join(dir, name);
  const submit = (output: string) =>
    runCli(
      ['submit', 'examples/wordcount.ts', '--input', input, '--output', output, '--reducers', '3', '--wait'],
      { env },
    );

  const started = await runCli(['cluster', 'start', '--workers', '3'], { env });
  assert.equal(started.code, 0, started.stderr);
  const plain = await submit(out('plain'));
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout + plain.stderr, /job wordcount succeeded/);
  const status = await runCli(['status', '--workers'], { env });
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /3 workers \(3 alive\)/);
  assert.match(status.stdout, /wordcount\s+succeeded/);
  assert.equal((await runCli(['cluster', 'stop'], { env })).code, 0);

  // Chaos: a worker SIGKILLed every 3 s (and restarted). The reduces wait at a gate until
  // chaos has struck, so the job is surely running when it does.
  const small = join(dir, 'small');
  mkdirSync(small);
  for (const f of readdirSync(input).sort().slice(0, 60)) copyFileSync(join(input, f), join(small, f));
  const reference = out('reference');
  await runJob(join(repoRoot, 'examples/wordcount.ts'), { input: small, output: reference, reducers: 3 })
    .done;
  const chaotic = await runCli(['cluster', 'start', '--workers', '3', '--chaos', '3s'], { env });
  assert.equal(chaotic.code, 0, chaotic.stderr);
  const gate = join(dir, 'gate');
  const job = runCli(
    [
      'submit',
      'test/fixtures/jobs/gated-wordcount.ts',
      ...['--input', small, '--output', out('chaos'), '--reducers', '3', '--split-size', '128k'],
      ...['--param', `reduceGate=${gate}`, '--wait'],
    ],
    { env },
  );
  const restarts = async () => {
    const listed = await runCli(['cluster', 'status', '--json'], { env });
    const { processes } = JSON.parse(listed.stdout) as { processes: Array<{ restarts: number }> };
    return processes.reduce((n, p) => n + p.restarts, 0);
  };
  await pollUntil('chaos to kill and restart a worker', async () => (await restarts()) > 0, {
    timeoutMs: 30_000,
  });
  writeFileSync(gate, '');
  const survived = await job;
  assert.equal(survived.code, 0, survived.stderr);
  const want = parts(reference);
  const got = parts(out('chaos'));
  assert.deepEqual([...got.keys()], [...want.keys()]);
  for (const [name, bytes] of want) assert.ok(bytes.equals(got.get(name)!), `${name} as a local run's`);
  assert.equal((await runCli(['cluster', 'stop'], { env })).code, 0);
});
