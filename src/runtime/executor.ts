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
   * The driver ends a job after `result` settled, or after a grace period
   * (one second, `KILL_GRACE_MS` in `job-driver.ts`) if it does not; the caller deletes the
   * job's files after `close()`. Local mode: an attempt in this thread settles
   * once it has stopped (one stuck in an `await` does not); a worker thread's
   * attempt rejects at once and its thread is terminated (piscina does not wait
   * for the thread to exit, so a thread caught in a synchronous file call may
   * finish that call afterwards; what it writes goes with the attempt's or the
   * job's deleted files).
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
