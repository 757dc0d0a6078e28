/**
 * How `runBatch` runs attempts: on this thread's event loop
 * (`async-executor.ts`) or on worker threads (`threads-executor.ts`). The
 * batch run decides what to run and when to retry; an executor only runs.
 */
import type { AttemptInput, AttemptOutcome } from './attempt.ts';

export interface Executor<T, R> {
  /** Attempts that may be in the executor at once (running or waiting for a thread). */
  readonly capacity: number;
  /** Items sent to a thread per message (1 in async mode). */
  readonly batchSize: number;
  /**
   * Runs one attempt. Returns (or resolves with) its outcome, failures
   * included; rejects only with an error that must end the whole batch (for
   * example a worker module that cannot be loaded).
   */
  run(input: AttemptInput<T>): AttemptOutcome<R> | Promise<AttemptOutcome<R>>;
  /** Aborts what is running and frees threads. Idempotent. */
  close(): Promise<void>;
}
