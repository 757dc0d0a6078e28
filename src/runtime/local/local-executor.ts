/**
 * Local mode: attempts run on a piscina pool of worker threads, or, with
 * `workers: 0`, one at a time in this thread.
 */
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { deserializeError, ErrorCode, type SerializedError, TsmrError } from '../../errors.ts';
import { abortableBody } from '../../task/abortable-body.ts';
import type { JobBody } from '../../task/job-body.ts';
import type { TaskMessage, TaskProgress, TaskResult } from '../../task/messages.ts';
import { runTask } from '../../task/run-task.ts';
import { ownModuleUrl } from '../../own-module-url.ts';
import type { AttemptExecutor, RunningAttempt } from '../executor.ts';

const workerEntry = ownModuleUrl('../../task/worker.ts', import.meta.url).href;

export function createLocalExecutor(workers: number, body: JobBody): AttemptExecutor {
  return workers === 0 ? inProcessExecutor(body) : threadPoolExecutor(workers);
}

function threadPoolExecutor(threads: number): AttemptExecutor {
  const pool = new Piscina({
    filename: workerEntry,
    minThreads: threads,
    maxThreads: threads,
    concurrentTasksPerWorker: 1,
    idleTimeout: 30_000,
  });
  return {
    workers: [{ id: 'local', slots: threads }],
    start(_workerId, msg, onProgress) {
      const { port1, port2 } = new MessageChannel();
      port1.on('message', (p: TaskProgress) => onProgress(p));
      const abort = new AbortController();
      const result = pool
        .run({ msg, port: port2 }, { transferList: [port2], signal: abort.signal })
        .then(
          (r: TaskResult) => r,
          (error: unknown) => {
            throw abort.signal.aborted ? killed(msg, String(abort.signal.reason)) : revive(error);
          },
        )
        .finally(() => port1.close());
      return { result, kill: (reason) => abort.abort(reason) };
    },
    close: () => pool.destroy(),
  };
}

/**
 * Attempts run in this thread, one slot. A kill stops an attempt at its next
 * record, group or close ({@link abortableBody}); `result` rejects once it has
 * stopped. (An attempt stuck in an `await` does not stop; the driver stops
 * waiting for it after a grace period.)
 */
function inProcessExecutor(body: JobBody): AttemptExecutor {
  return {
    workers: [{ id: 'local', slots: 1 }],
    start(_workerId, msg, onProgress): RunningAttempt {
      const abort = new AbortController();
      const result = runTask(msg, abortableBody(body, abort.signal), onProgress).catch((error: unknown) => {
        throw abort.signal.aborted ? abort.signal.reason : error;
      });
      return { result, kill: (reason) => abort.abort(killed(msg, reason)) };
    },
    close: async () => {},
  };
}

function killed(msg: TaskMessage, reason: string): TsmrError {
  return new TsmrError(ErrorCode.CANCELLED, `attempt ${msg.attempt} of ${msg.taskId} was killed: ${reason}`, {
    details: { taskId: msg.taskId, attempt: msg.attempt },
  });
}

/** Rebuilds an error thrown in a worker thread (see `src/task/worker.ts`). */
function revive(error: unknown): Error {
  const serialized = (error as { serializedError?: SerializedError } | undefined)?.serializedError;
  if (serialized !== undefined) return deserializeError(serialized);
  return error instanceof Error ? error : new Error(String(error));
}
