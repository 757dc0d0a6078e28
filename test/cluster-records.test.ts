/**
 * Cluster mode without files: in-memory input (an array, an async generator)
 * uploaded by the client, copied by the workers from the coordinator, and
 * `results()` fetched back from the workers that hold them; with real
 * `tsmr coordinator` and `tsmr worker` processes on loopback. The results
 * must equal a local run's (`workers: 0`) in order and content; a worker
 * SIGKILLed before the client reads its results is a clear error.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { collectResults, runJob } from '../src/index.ts';
import { isTsmrError } from '../src/errors.ts';
import type { JobStart } from '../src/engine/job-report.ts';
import { createClusterClient } from '../src/runtime/cluster/client.ts';
import { CLUSTER_TOKEN, TestCluster } from './support/cluster.ts';
import { pollUntil } from './support/poll.ts';
import { repoRoot } from './support/run-cli.ts';

const job = join(repoRoot, 'test/fixtures/jobs/group-records.ts');
const REDUCERS = 3;
/** Small, so that 10 000 items make several spool files, each one split. */
const SPLIT = 16 * 1024;

/** 10 000 items: numbers and strings. */
const items = Array.from({ length: 10_000 }, (_, i) => (i % 3 === 0 ? `item ${i * 7919}` : i * 31));

async function* generated(n: number): AsyncGenerator<unknown> {
  for (let i = 0; i < n; i++) yield i % 2 === 0 ? i : `g${i % 17}-${i}`;
}

async function local(input: unknown): Promise<unknown[]> {
  const handle = runJob(job, { input: input as unknown[], reducers: REDUCERS, workers: 0 });
  return collectResults(handle);
}

describe('cluster mode: in-memory input and results()', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await new TestCluster({ workers: 2, slots: 1 }).start();
  });
  after(() => cluster.stop());

  const onCluster = (input: unknown) => {
    const handle = runJob(job, {
      coordinator: cluster.url,
      token: CLUSTER_TOKEN,
      input: input as unknown[],
      reducers: REDUCERS,
      splitSize: SPLIT,
      speculation: false,
    });
    let started: JobStart | undefined;
    handle.on('started', (s) => (started = s));
    return { handle, started: () => started };
  };

  test('10 000 numbers and strings in, results() out: equal to a local run, in order, over several maps', async () => {
    const { handle } = onCluster(items);
    const report = await handle.done;
    const maps = report.attempts.filter((a) => a.taskId.startsWith('m-') && a.status === 'committed');
    assert.ok(maps.length > 1, `the spool made several splits (${maps.length} maps)`);
    // The workers copied the splits from the coordinator (they did not read its disk).
    const sent = cluster.coordinator
      .output()
      .match(new RegExp(`"jobId":"${report.jobId}"[^\n]*uploaded input sent`, 'g'));
    assert.ok((sent?.length ?? 0) >= maps.length, `every map's input was sent (${sent?.length ?? 0} sent)`);
    const got = await collectResults(handle);
    assert.equal(
      got.length,
      101 + new Set(items.filter((i) => typeof i === 'string').map((s) => s.slice(0, 2))).size,
    );
    assert.deepEqual(got, await local(items));
  });

  test('an async generator in: equal to a local run', async () => {
    const { handle } = onCluster(generated(5000));
    await handle.done;
    assert.deepEqual(await collectResults(handle), await local(generated(5000)));
  });

  test('results are read once: the coordinator released them and the workers deleted the job’s files', async () => {
    const { handle } = onCluster(items.slice(0, 100));
    const { jobId } = await handle.done;
    const jobDirs = cluster.workers.map((w) => join(cluster.dir, w.name, 'jobs', jobId));
    assert.ok(
      jobDirs.some((d) => existsSync(d)),
      'the workers hold the results until they are read',
    );
    await collectResults(handle);
    await assert.rejects(collectResults(handle), { code: 'TSMR_USAGE' });
    const client = createClusterClient({ url: cluster.url, token: CLUSTER_TOKEN });
    try {
      const answer = await client.results(jobId);
      assert.ok(!answer.ok && answer.error.code === 'TSMR_USAGE', JSON.stringify(answer));
      assert.match(answer.error.message, /released: read by the client/);
    } finally {
      client.close();
    }
    await pollUntil('the workers to delete the job’s files', () => jobDirs.every((d) => !existsSync(d)));
  });

  test('the worker holding a result SIGKILLed before the client reads: TSMR_WORKER_LOST naming it', async () => {
    const { handle } = onCluster(items);
    const report = await handle.done;
    const holder = report.attempts.find((a) => a.taskId.startsWith('r-') && a.status === 'committed')!.worker;
    const worker = cluster.workers.find((w) => w.name === holder)!;
    worker.child.kill('SIGKILL');
    await cluster.waitForWorkerState(holder, 'dead');
    await assert.rejects(collectResults(handle), (error: unknown) => {
      assert.ok(isTsmrError(error), String(error));
      assert.equal(error.code, 'TSMR_WORKER_LOST');
      assert.match(error.message, new RegExp(`worker ${holder}\\b`));
      return true;
    });
  });
});
