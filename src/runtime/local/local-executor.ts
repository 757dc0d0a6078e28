/**
 * Local mode: attempts run on a piscina pool of worker threads, or, with
 * `workers: 0`, one at a time in this thread. Each attempt's scratch
 * directory is `<workDir>/attempts/<attemptId>/`.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MessageChannel, type Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { attemptIdOf } from '../../engine/scheduler-types.ts';
import { deserializeError, isRetriable, type SerializedError, serializeError } from '../../errors.ts';
import { abortableBody, killed } from '../../task/abortable-body.ts';
import type { JobBody } from '../../task/job-body.ts';
import { mapOutputPath } from '../../task/map-task.ts';
import type {
  AttemptControl,
  AttemptOutcome,
  TaskMessage,
  TaskProgress,
  TaskResult,
} from '../../task/messages.ts';
import { runTask } from '../../task/run-task.ts';
import { ownModuleUrl } from '../../own-module-url.ts';
import type { AttemptExecutor, RunningAttempt } from '../executor.ts';

/** Local mode's one worker: this process, whose slots are the threads. */
export const LOCAL_WORKER_ID = 'local';

const workerEntry = ownModuleUrl('../../task/worker.ts', import.meta.url).href;

/**
 * @param workers worker threads; 0 runs attempts in this thread.
 * @param workDir the job's scratch directory; attempts get directories below it.
 */
export function createLocalExecutor(workers: number, body: JobBody, workDir: string): AttemptExecutor {
  const scratch = (attemptId: string): string => join(workDir, 'attempts', attemptId);
  const run = workers === 0 ? inThisThread(body) : onThreadPool(workers);
  /** Attempts that left a map output (not those of a map-only job, whose files are its results). */
  const mapOutputs = new Set<string>();
  return {
    workers: [{ id: LOCAL_WORKER_ID, slots: Math.max(1, workers) }],
    start(_workerId, msg, onProgress): RunningAttempt {
      const attemptId = attemptIdOf(msg.taskId, msg.attempt);
      const dir = scratch(attemptId);
      const { result, kill } = run.start(msg, dir, onProgress);
      const outcome = result.then(
        (r): AttemptOutcome => {
          if (r.mapOutput === undefined) return { ok: true, result: r };
          mapOutputs.add(attemptId);
          return { ok: true, result: r, mapOutput: { kind: 'local', path: mapOutputPath(dir, attemptId) } };
        },
        async (error: unknown): Promise<AttemptOutcome> => {
          await removeQuietly(dir);
          return { ok: false, error: serializeError(error), retriable: isRetriable(error) };
        },
      );
      return { outcome, kill };
    },
    discard: (attemptId) => removeQuietly(scratch(attemptId)),
    async releaseJob() {
      const names = await readdir(join(workDir, 'attempts')).catch(() => [] as string[]);
      await Promise.all(names.filter((n) => mapOutputs.has(n)).map((n) => removeQuietly(scratch(n))));
    },
    close: () => run.close(),
  };
}

/** Deletes a scratch directory; a failure is left to the job's removal of its scratch. */
async function removeQuietly(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true }).catch(() => {});
}

/** Runs attempts somewhere in this process: their result, rejecting with the attempt's error. */
export interface AttemptRunner {
  start(
    msg: TaskMessage,
    scratchDir: string,
    onProgress: (p: TaskProgress) => void,
  ): { result: Promise<TaskResult>; kill(reason: string): void };
  close(): Promise<void>;
}

/**
 * Runs attempts on `threads` worker threads, one attempt per thread at a time.
 * A kill terminates the attempt's thread (piscina starts another) and
 * `result` rejects with `TSMR_CANCELLED` at once.
 * @param entry the thread entry (default `src/task/worker.ts`) and the
 *   `workerData` its threads see (piscina's `workerData` export); the cluster
 *   worker's entry installs bundle resolution first (`cluster/worker-thread.ts`).
 */
export function onThreadPool(
  threads: number,
  entry: { filename: string; workerData?: unknown } = { filename: workerEntry },
): AttemptRunner {
  const pool = new Piscina({
    filename: entry.filename,
    workerData: entry.workerData,
    minThreads: threads,
    maxThreads: threads,
    concurrentTasksPerWorker: 1,
    idleTimeout: 30_000,
  });
  // Every thread the pool started and that has not exited. A thread's termination was seen to be
  // lost when it came while the thread imported the job module (Node 24.21, under load): the thread
  // ran on and idled, and kept the process alive after the job. The attempt is therefore also told
  // to stop (a `kill` message, see `src/task/worker.ts`), and close() terminates and unrefs every
  // thread it knows of, not only those piscina still holds.
  const threadsSeen = new Set<Worker>();
  const noteThreads = (): void => {
    for (const thread of pool.threads) {
      if (threadsSeen.has(thread)) continue;
      threadsSeen.add(thread);
      thread.once('exit', () => threadsSeen.delete(thread));
    }
  };
  return {
    start(msg, scratchDir, onProgress) {
      const { port1, port2 } = new MessageChannel();
      port1.on('message', (p: TaskProgress) => onProgress(p));
      const abort = new AbortController();
      const result = pool
        .run({ msg, scratchDir, port: port2 }, { transferList: [port2], signal: abort.signal })
        .then(
          (r: TaskResult) => r,
          (error: unknown) => {
            throw abort.signal.aborted ? killed(msg, String(abort.signal.reason)) : revive(error);
          },
        )
        .finally(() => port1.close());
      noteThreads();
      return {
        result,
        kill: (reason) => {
          noteThreads();
          port1.postMessage({ kill: reason } satisfies AttemptControl);
          abort.abort(reason);
        },
      };
    },
    async close() {
      noteThreads();
      await pool.destroy();
      for (const thread of threadsSeen) {
        void thread.terminate(); // refs the thread: unref after
        thread.unref();
      }
    },
  };
}

/**
 * Attempts run in this thread, one slot. A kill stops an attempt at its next
 * record, group or close ({@link abortableBody}); `result` rejects once it has
 * stopped. (An attempt stuck in an `await` does not stop; the driver stops
 * waiting for it after a grace period.)
 */
function inThisThread(body: JobBody): AttemptRunner {
  return {
    start(msg, scratchDir, onProgress) {
      const abort = new AbortController();
      const result = runTask(msg, abortableBody(body, abort.signal), scratchDir, onProgress).catch(
        (error: unknown) => {
          throw abort.signal.aborted ? abort.signal.reason : error;
        },
      );
      return { result, kill: (reason) => abort.abort(killed(msg, reason)) };
    },
    close: async () => {},
  };
}

/** Rebuilds an error thrown in a worker thread (see `src/task/worker.ts`). */
function revive(error: unknown): Error {
  const serialized = (error as { serializedError?: SerializedError } | undefined)?.serializedError;
  if (serialized !== undefined) return deserializeError(serialized);
  return error instanceof Error ? error : new Error(String(error));
}
