/**
 * Cluster mode with real processes: a `tsmr coordinator` and three `tsmr
 * worker`s on loopback run word count over the Brown corpus, and the output
 * must equal a local run's byte for byte whatever happens to the workers:
 * SIGKILL during the map phase, SIGKILL after the maps committed (their
 * outputs re-executed), SIGSTOP past the heartbeat timeout (fenced), a
 * corrupted segment on a worker's disk (re-fetched, then the map re-run).
 * The gated fixture job (`test/fixtures/jobs/gated-wordcount.ts`) holds a
 * map or the reduces at a gate file, so each fault lands at a known point.
 */
import assert from 'node:assert/strict';
import {
  closeSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { ensureCorpusDir } from '../bench/corpus.ts';
import { runJob } from '../src/index.ts';
import type { RunOptions } from '../src/runtime/run-options.ts';
import { ErrorCode, isTsmrError } from '../src/errors.ts';
import type { JobReport, ProgressSnapshot } from '../src/engine/job-report.ts';
import { CLUSTER_TOKEN, TestCluster, type TestClusterOptions } from './support/cluster.ts';
import { pollUntil } from './support/poll.ts';
import { repoRoot, runCli } from './support/run-cli.ts';
import { spawnSync } from 'node:child_process';

/** Why a worker cannot be given a mount namespace of its own here (root and unshare(1) needed). */
const noUnshare =
  process.getuid?.() !== 0
    ? 'needs root'
    : spawnSync('unshare', ['--mount', 'true']).status === 0
      ? undefined
      : 'unshare --mount does not work here';

const job = join(repoRoot, 'test/fixtures/jobs/gated-wordcount.ts');
const REDUCERS = 3;
const SPLIT = 1024 * 1024;
let input = '';
let reference = '';
const scratch = join(tmpdir(), `tsmr-cluster-test-${process.pid}`);

/** The part files of `dir`, name → bytes. */
function parts(dir: string): Map<string, Buffer> {
  return new Map(
    readdirSync(dir)
      .filter((f) => f.startsWith('part-'))
      .sort()
      .map((f) => [f, readFileSync(join(dir, f))]),
  );
}

function assertSameOutput(out: string): void {
  const got = parts(out);
  const want = parts(reference);
  assert.deepEqual([...got.keys()], [...want.keys()], 'the same part files');
  for (const [name, bytes] of want)
    assert.ok(bytes.equals(got.get(name)!), `${name} is byte-identical to the local run's`);
  assert.ok(readdirSync(out).includes('_SUCCESS'));
}

before(async () => {
  input = join(await ensureCorpusDir(), 'brown');
  reference = join(scratch, 'local');
  await runJob(join(repoRoot, 'examples/wordcount.ts'), {
    input,
    output: reference,
    reducers: REDUCERS,
    splitSize: SPLIT,
  }).done;
});
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('cluster mode: real coordinator and worker processes', () => {
  let cluster: TestCluster | undefined;
  let runs = 0;

  async function start(
    placement?: TestClusterOptions['placement'],
  ): Promise<{ cluster: TestCluster; dir: string }> {
    cluster = await new TestCluster({
      workers: 3,
      slots: 1,
      heartbeatIntervalMs: 200,
      missedHeartbeats: 5,
      placement,
    }).start();
    return { cluster, dir: join(scratch, `run-${runs++}`) };
  }
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  /**
   * Submits the gated job to `c`: `gated.map` holds that map task at the
   * gate file `<dir>/map-gate`, `gated.reduce` every reduce at
   * `<dir>/reduce-gate`, until the test opens them.
   */
  function submit(
    c: TestCluster,
    dir: string,
    gated: { map?: number; reduce?: boolean } = {},
    more: RunOptions = {},
  ) {
    const handle = runJob(job, {
      ...more,
      coordinator: c.url,
      token: CLUSTER_TOKEN,
      input,
      output: join(dir, 'out'),
      reducers: REDUCERS,
      splitSize: SPLIT,
      speculation: false,
      params: {
        ...(gated.map !== undefined && { gatedSplit: gated.map, mapGate: join(dir, 'map-gate') }),
        ...(gated.reduce && { reduceGate: join(dir, 'reduce-gate') }),
      },
    });
    let latest: ProgressSnapshot | undefined;
    handle.on('progress', (p) => (latest = p));
    /** Waits until the latest progress snapshot satisfies `check`. */
    const progress = (what: string, check: (p: ProgressSnapshot) => boolean) =>
      pollUntil(what, () => latest !== undefined && check(latest), { timeoutMs: 60_000 });
    return { handle, progress, out: join(dir, 'out') };
  }

  const open = (dir: string, gate: 'map-gate' | 'reduce-gate') => writeFileSync(join(dir, gate), '');
  /** The job's report as the coordinator wrote it, `<out>/_job.json`. */
  const jobJson = (out: string): JobReport => JSON.parse(readFileSync(join(out, '_job.json'), 'utf8'));
  /** Map tasks with more than one attempt that did the work (committed or succeeded later lost): re-executed. */
  const reExecuted = (report: JobReport) => {
    const byTask = new Map<string, string[]>();
    for (const a of report.attempts) {
      if (a.taskId.startsWith('m-'))
        byTask.set(a.taskId, [...(byTask.get(a.taskId) ?? []), `${a.worker}:${a.status}`]);
    }
    return [...byTask].filter(([, attempts]) => attempts.length > 1);
  };

  test('word count on three workers equals the local run byte for byte', async () => {
    const { cluster: c, dir } = await start();
    const { handle, out } = submit(c, dir);
    assert.equal((await handle.done).status, 'succeeded');
    assertSameOutput(out);
    const busy = jobJson(out)
      .workers.filter((w) => w.tasks > 0)
      .map((w) => w.workerId);
    assert.deepEqual(new Set(busy), new Set(['w0', 'w1', 'w2']), 'every worker ran tasks');
  });

  test('a worker SIGKILLed during the map phase costs time, not correctness', async () => {
    const { cluster: c, dir } = await start();
    const { handle, progress, out } = submit(c, dir, { map: 0 });
    // Map 0 waits at its gate, so the map phase is still running when w1 dies.
    await progress('two maps committed', (p) => p.phases.map.tasksDone >= 2);
    c.workers[1]!.child.kill('SIGKILL');
    await c.waitForWorkerState('w1', 'dead', 5_000);
    open(dir, 'map-gate');
    const report = await handle.done;
    assertSameOutput(out);
    assert.equal(
      report.counters['tsmr/MAP_INPUT_BYTES'],
      report.phases.map!.inputBytes,
      'input counted once',
    );
  });

  test('a worker SIGKILLed after the maps committed: the map outputs it held are re-executed', async () => {
    const { cluster: c, dir } = await start();
    const { handle, progress, out } = submit(c, dir, { reduce: true });
    // Every reduce has fetched its segments and waits at the gate: w2 and its map outputs go.
    await progress(
      'maps done and the reduces running',
      (p) => p.phases.map.tasksDone === p.phases.map.tasksTotal && p.phases.reduce.tasksRunning === REDUCERS,
    );
    c.workers[2]!.child.kill('SIGKILL');
    await c.waitForWorkerState('w2', 'dead', 5_000);
    open(dir, 'reduce-gate');
    await handle.done;
    assertSameOutput(out);
    const again = reExecuted(jobJson(out));
    assert.ok(again.length > 0, 'maps re-executed after w2 was lost');
    assert.ok(
      again.every(([, attempts]) => attempts.some((x) => x.startsWith('w2:'))),
      `only w2's maps were re-run: ${JSON.stringify(again)}`,
    );
  });

  test('a worker SIGSTOPped past the heartbeat timeout is fenced: it re-registers and its late reports are ignored', async () => {
    const { cluster: c, dir } = await start();
    const { handle, progress, out } = submit(c, dir, { map: 0 });
    await progress('two maps committed', (p) => p.phases.map.tasksDone >= 2);
    const before = (await c.status()).workers.find((w) => w.workerId === 'w0')!;
    c.workers[0]!.child.kill('SIGSTOP');
    await c.waitForWorkerState('w0', 'dead', 10_000);
    c.workers[0]!.child.kill('SIGCONT');
    await pollUntil(
      'w0 registered again',
      async () => {
        const w = (await c.status()).workers.find((x) => x.workerId === 'w0');
        return w !== undefined && w.state === 'alive' && w.incarnation > before.incarnation;
      },
      { timeoutMs: 30_000 },
    );
    open(dir, 'map-gate');
    await handle.done;
    assertSameOutput(out);
  });

  test('a corrupted segment on a worker’s disk is never a wrong answer: re-fetched, then its map re-run', async () => {
    const { cluster: c, dir } = await start();
    const { handle, progress, out } = submit(c, dir, { map: 0 });
    await progress(
      'all maps but the gated one committed',
      (p) => p.phases.map.tasksDone === p.phases.map.tasksTotal - 1,
    );
    const data = findFiles(c.dir, (f) => f.endsWith('.data'));
    assert.ok(data.length > 0, 'map outputs on the workers’ disks');
    const victim = data.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
    const fd = openSync(victim, 'r+');
    const at = Math.floor(statSync(victim).size / 2);
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, at);
    writeSync(fd, Buffer.from([byte[0]! ^ 0xff]), 0, 1, at);
    closeSync(fd);
    open(dir, 'map-gate');
    await handle.done;
    assertSameOutput(out);
    assert.ok(reExecuted(jobJson(out)).length > 0, 'the corrupt map output was re-executed');
  });

  test('failures on purpose (--simulate-failures) are retried; a job that cannot start fails at once with its own error', async () => {
    const { cluster: c, dir } = await start();
    const { handle, out } = submit(c, dir, {}, { simulateFailures: 0.3, seed: 7 });
    await handle.done;
    assertSameOutput(out);
    const report = jobJson(out);
    assert.ok(
      report.attempts.some((a) => a.status === 'failed' && a.error?.code === ErrorCode.INJECTED_FAILURE),
    );
    // The output exists now: a second run is refused before any task runs (no hang, no report).
    await assert.rejects(
      submit(c, dir).handle.done,
      (e: unknown) => isTsmrError(e) && e.code === ErrorCode.OUTPUT_EXISTS,
    );
  });

  test(
    'a worker that cannot read the input fails those attempts naming itself, the path and the OS error; the job succeeds elsewhere',
    { skip: noUnshare },
    async () => {
      // w1 runs in a mount namespace of its own where the corpus directory is an empty tmpfs.
      const hide = [
        'unshare',
        '--mount',
        '--propagation',
        'private',
        '--',
        'sh',
        '-c',
        'mount -t tmpfs tmpfs "$0" && exec "$@"',
        input,
      ];
      const { cluster: c, dir } = await start({ workers: [undefined, { prefix: hide }] });
      const { handle, out } = submit(c, dir, {}, { maxAttempts: 8 });
      await handle.done;
      assertSameOutput(out);
      const failed = jobJson(out).attempts.filter((a) => a.status === 'failed');
      assert.ok(failed.length > 0, 'w1 got map tasks and failed them');
      assert.ok(failed.length <= 3, `w1 excluded from the job after 3 failed attempts (${failed.length})`);
      for (const a of failed) {
        assert.equal(a.worker, 'w1');
        assert.match(a.error!.message, /w1/);
        assert.match(a.error!.message, new RegExp(input.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
        assert.match(`${a.error!.message} ${JSON.stringify(a.error!.details)}`, /ENOENT/);
      }
    },
  );

  test('a worker or client with a wrong token is refused with a clear message; the cluster goes on', async () => {
    const { cluster: c, dir } = await start();
    const wrong = join(c.dir, 'wrong-token');
    writeFileSync(wrong, 'wrong-token-0123456789abcdefghij\n', { mode: 0o600 });
    const intruder = await runCli([
      'worker',
      '--coordinator',
      c.url,
      '--token-file',
      wrong,
      '--worker-id',
      'intruder',
      '--work-dir',
      join(c.dir, 'intruder'),
    ]);
    assert.notEqual(intruder.code, 0);
    assert.match(intruder.stderr, /token/i);
    assert.doesNotMatch(intruder.stderr, /^\s+at /m, 'no stack trace');
    const client = runJob(job, {
      coordinator: c.url,
      token: 'wrong-token-0123456789abcdefghij',
      input,
      output: join(dir, 'x'),
    });
    await assert.rejects(client.done, (e: unknown) => isTsmrError(e) && e.code === ErrorCode.AUTH);
    assert.deepEqual((await c.status()).workers.map((w) => w.workerId).sort(), ['w0', 'w1', 'w2']);
  });
});

/** Files under `dir` (recursively) whose path satisfies `keep`. */
function findFiles(dir: string, keep: (path: string) => boolean): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .filter(keep);
}
