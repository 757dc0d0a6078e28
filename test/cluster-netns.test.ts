/**
 * Cluster mode across hosts: the coordinator, three workers and the client
 * each in a network namespace of their own (10.200.7.0/24 on a bridge in
 * another namespace; nothing outside them is reached). A worker's link is
 * cut for longer than the heartbeat timeout while the job runs and then
 * healed: the coordinator declares it dead, the job goes on without it, the
 * worker is fenced and registers again, and the output equals a local run's.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { ensureCorpusDir } from '../bench/corpus.ts';
import { runJob } from '../src/index.ts';
import type { ClusterStatus } from '../src/runtime/cluster/wire-status.ts';
import { CLUSTER_TOKEN, TestCluster } from './support/cluster.ts';
import { type NetHost, NetLab, netnsUnavailable } from './support/netns.ts';
import { pollUntil } from './support/poll.ts';
import { repoRoot } from './support/run-cli.ts';

const clientScript = join(repoRoot, 'test/fixtures/scripts/cluster-client.ts');
const job = join(repoRoot, 'examples/wordcount.ts');
const SPLIT = 1024 * 1024;
const scratch = join(tmpdir(), `tsmr-netns-test-${process.pid}`);

describe('cluster mode across network namespaces', { skip: netnsUnavailable }, () => {
  let lab: NetLab;
  let client: NetHost;
  let cluster: TestCluster;
  let input = '';

  /** Runs the client fixture in the client's namespace. */
  const inClient = (args: string[]) =>
    lab.exec(client, [process.execPath, '--conditions=tsmr-source', clientScript, ...args]);

  before(async () => {
    input = join(await ensureCorpusDir(), 'brown');
    lab = new NetLab(7);
    const coordinator = lab.addHost('c', 1);
    const workers = [11, 12, 13].map((octet, i) => lab.addHost(`w${i}`, octet));
    client = lab.addHost('client', 100);
    cluster = await new TestCluster({
      workers: 3,
      slots: 1,
      heartbeatIntervalMs: 200,
      missedHeartbeats: 5,
      placement: {
        coordinator: { prefix: lab.exec(coordinator, []), host: coordinator.address },
        workers: workers.map((w) => ({ prefix: lab.exec(w, []), host: w.address })),
      },
      status: async (url) => {
        const [cmd, ...args] = inClient(['status', url]);
        const { stdout } = await promisify(execFile)(cmd!, args, {
          env: { ...process.env, TSMR_TOKEN: CLUSTER_TOKEN },
        });
        return JSON.parse(stdout) as ClusterStatus;
      },
    }).start();
  });
  after(async () => {
    await cluster?.stop();
    lab?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('a worker cut off past the heartbeat timeout is declared dead, fenced when the link heals, and the output is right', async () => {
    assert.match(cluster.url, /^http:\/\/10\.200\.7\.1:\d+$/);
    const status = await cluster.status();
    assert.deepEqual(
      status.workers.map((w) => w.shuffleUrl.replace(/:\d+$/, '')).sort(),
      ['http://10.200.7.11', 'http://10.200.7.12', 'http://10.200.7.13'],
      'each worker advertises its own host',
    );
    const before = status.workers.find((w) => w.workerId === 'w1')!;

    const out = join(scratch, 'out');
    const [cmd, ...args] = inClient(['run', cluster.url, job, input, out, '3', String(SPLIT)]);
    const run = spawn(cmd!, args, {
      env: { ...process.env, TSMR_TOKEN: CLUSTER_TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    run.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    run.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const exited = once(run, 'close');

    await pollUntil('a map committed', () => /"mapsDone":[1-9]/.test(stdout), { timeoutMs: 60_000 });
    lab.setLink(
      lab.hosts.find((h) => h.ns.endsWith('-w1'))!,
      false,
    );
    try {
      await cluster.waitForWorkerState('w1', 'dead', 15_000);
    } finally {
      lab.setLink(
        lab.hosts.find((h) => h.ns.endsWith('-w1'))!,
        true,
      );
    }
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0, `client failed:\n${stderr}\n${cluster.logs()}`);
    assert.match(stdout, /"status":"succeeded"/);
    await pollUntil(
      'w1 registered again with a new incarnation',
      async () => {
        const w = (await cluster.status()).workers.find((x) => x.workerId === 'w1');
        return w?.state === 'alive' && w.incarnation > before.incarnation;
      },
      { timeoutMs: 60_000, everyMs: 500 },
    );

    const reference = join(scratch, 'local');
    await runJob(job, { input, output: reference, reducers: 3, splitSize: SPLIT }).done;
    const names = (dir: string) =>
      readdirSync(dir)
        .filter((f) => f.startsWith('part-'))
        .sort();
    assert.deepEqual(names(out), names(reference));
    for (const name of names(reference)) {
      assert.ok(
        readFileSync(join(out, name)).equals(readFileSync(join(reference, name))),
        `${name} as the local run's`,
      );
    }
  });
});
