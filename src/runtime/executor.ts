import type { TaskMessage, TaskProgress, TaskResult } from '../task/messages.ts';

/** An attempt started by an {@link AttemptExecutor}. */
export interface RunningAttempt {
  /** Settles when the attempt ends: its result, or the error it failed with. */
  readonly result: Promise<TaskResult>;
  /**
   * Stops the attempt (a speculative loser, a timeout, a cancelled job); `result`
   * then rejects with `TSMR_CANCELLED`, or resolves if the result was already on
   * its way (the driver ignores it). Does nothing once the attempt has ended.
   *
   * The driver ends a job only after `result` settled, and the caller deletes the
   * job's files only after `close()`: between them they must ensure that a killed
   * attempt writes no more (local mode: an attempt in this thread settles once it
   * has stopped; a worker thread is terminated, which `close()` waits for).
   */
  kill(reason: string): void;
}

/**
 * Runs task attempts somewhere: threads of this process (local mode) or
 * worker processes (cluster mode). The job driver does everything else.
 */
export interface AttemptExecutor {
  /** Workers and their slots, announced to the scheduler at start. */
  readonly workers: ReadonlyArray<{ id: string; slots: number }>;
  start(workerId: string, msg: TaskMessage, onProgress: (p: TaskProgress) => void): RunningAttempt;
  close(): Promise<void>;
}
