/**
 * Helpers for the cluster worker's tests (not used by the runtime): a stub
 * coordinator with the word-count bundle, workers on loopback that the test
 * closes, and task leases of the word-count job.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../observe/logger.ts';
import type { MapOutputIndex, MapOutputSource } from '../../task/messages.ts';
import { bundleJob } from './job-bundle.ts';
import type { JobBundle } from './job-bundle.ts';
import { startStubCoordinator } from './stub-coordinator.ts';
import type { StubCoordinator, StubCoordinatorOptions } from './stub-coordinator.ts';
import { TEST_TOKEN, memoryLogger } from './test-support.ts';
import type { MapTaskSpec, ReduceTaskSpec } from './wire-task.ts';
import { startWorker } from './worker.ts';
import type { ClusterWorker, WorkerOptions } from './worker.ts';

export const JOB_ID = 'job-20261201-121943-a1b2c3';

/** `examples/wordcount.ts`. */
export const WORDCOUNT = fileURLToPath(new URL('../../../examples/wordcount.ts', import.meta.url));

let wordcount: Promise<JobBundle> | undefined;

/** The bundle of examples/wordcount.ts (built once per test process). */
export function wordcountBundle(): Promise<JobBundle> {
  wordcount ??= bundleJob(WORDCOUNT);
  return wordcount;
}

/** A temporary directory removed after the test. */
export function tempDir(t: TestContext, prefix = 'tsmr-worker-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A stub coordinator serving the word-count bundle, closed after the test. */
export async function startStub(t: TestContext, opts: StubCoordinatorOptions = {}): Promise<StubCoordinator> {
  const stub = await startStubCoordinator(opts);
  t.after(() => stub.close());
  const bundle = await wordcountBundle();
  stub.bundles.set(bundle.sha256, bundle.bytes);
  return stub;
}

export interface TestWorker {
  worker: ClusterWorker;
  workDir: string;
  lines: Array<Record<string, unknown>>;
  log: Logger;
}

/** A worker on 127.0.0.1 with one slot and a fast fetch backoff, closed after the test. */
export async function startTestWorker(
  t: TestContext,
  stub: StubCoordinator,
  opts: Partial<WorkerOptions> = {},
): Promise<TestWorker> {
  const workDir = tempDir(t);
  const { log, lines } = memoryLogger();
  const worker = await startWorker({
    coordinator: stub.url,
    token: TEST_TOKEN,
    slots: 1,
    host: '127.0.0.1',
    workDir,
    log,
    pollWaitMs: 2000,
    fetch: { retries: 1, backoff: { initialDelay: 10, maxDelay: 20 } },
    ...opts,
  });
  t.after(() => worker.close('the test ended'));
  return { worker, workDir, lines, log };
}

/** A map lease of the word-count job reading all of `file` (split `index`). */
export async function mapLease(
  file: string,
  index: number,
  numReducers: number,
  attempt = 0,
  jobId = JOB_ID,
): Promise<MapTaskSpec> {
  const { sha256 } = await wordcountBundle();
  let size = 0;
  let mtimeMs = 0;
  try {
    ({ size, mtimeMs } = statSync(file));
  } catch {
    // an unreadable input: the attempt finds out
  }
  return {
    kind: 'map',
    jobId,
    taskId: `m-${String(index).padStart(5, '0')}`,
    attempt,
    job: { kind: 'module', bundleSha256: sha256, exportName: 'default' },
    params: {},
    numReducers,
    split: {
      index,
      parts: [{ path: file, start: 0, end: size, compressed: false, size, mtimeMs }],
      length: size,
    },
    // As examples/wordcount.ts reads its input: blocks of whole lines as bytes.
    inputFormat: { type: 'text', encoding: 'buffer', blocks: true },
    sortBufferBytes: 1 << 20,
    mergeFanIn: 16,
  };
}

/** A reduce lease of the word-count job writing `<outDir>/_attempts/…/part-r-0000<p>`. */
export async function reduceLease(
  partition: number,
  numReducers: number,
  sources: MapOutputSource[],
  outDir: string,
  attempt = 0,
): Promise<ReduceTaskSpec> {
  const { sha256 } = await wordcountBundle();
  const taskId = `r-${String(partition).padStart(5, '0')}`;
  return {
    kind: 'reduce',
    jobId: JOB_ID,
    taskId,
    attempt,
    job: { kind: 'module', bundleSha256: sha256, exportName: 'default' },
    params: {},
    numReducers,
    partition,
    sources,
    mergeFanIn: 16,
    output: {
      kind: 'file',
      dir: join(outDir, '_temporary', 'attempts', `${taskId}_${attempt}`),
      fileName: `part-r-${String(partition).padStart(5, '0')}`,
      format: { type: 'text', encoding: 'latin1' },
    },
  };
}

/** The source of `partition` of a map output held by `worker`. */
export function sourceOn(
  worker: ClusterWorker,
  mapAttemptId: string,
  index: MapOutputIndex,
  partition: number,
): MapOutputSource {
  return {
    mapTaskId: mapAttemptId.split('_')[0],
    mapAttemptId,
    segment: index.partitions[partition],
    location: { kind: 'worker', workerId: worker.id, shuffleUrl: worker.shuffleUrl },
  };
}

/** Word counts of `text` as `LC_ALL=C` would sort them: `[word, count]` in byte order. */
export function wordCounts(text: string): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const w of text.match(/[^ \t\n\v\f\r]+/g) ?? []) counts.set(w, (counts.get(w) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1')));
}
