/**
 * Where attempts run: the one interface between the job driver and a
 * runtime. Local mode runs attempts on threads of this process
 * (`local/local-executor.ts`); cluster mode will run them on worker processes.
 *
 * What every implementation must guarantee:
 * - `outcome` settles exactly once and never rejects: a failure is
 *   `{ ok: false, error, retriable }`, with the error serialized as it crosses
 *   a thread or process boundary (code, message, stack, details, causes).
 * - An attempt keeps its files in a scratch directory that the executor chose
 *   and owns; messages carry no worker-local paths. A failed or killed attempt's
 *   scratch is deleted by the executor when it stops; a succeeded one's stays
 *   until `discard(attemptId)` or `releaseJob`.
 * - A succeeded map attempt's outcome says where its output is
 *   (`mapOutput`): a path this process can read, or the worker that serves it.
 *   A map attempt of a map-only job (R = 0) has none: it wrote into the job's
 *   output as a reduce attempt does, and `releaseJob` leaves its files.
 *
 * Deliberately left out: commits (the driver asks the `OutputCommitter`),
 * retries and placement (the scheduler decides), and progress arithmetic.
 */
import type { AttemptOutcome, TaskMessage, TaskProgress } from '../task/messages.ts';

/** An attempt started by an {@link AttemptExecutor}. */
export interface RunningAttempt {
  /** Settles once, when the attempt ends; never rejects. */
  readonly outcome: Promise<AttemptOutcome>;
  /**
   * Stops the attempt (a speculative loser, a timeout, a cancelled job);
   * `outcome` then settles with a `TSMR_CANCELLED` failure, or with its result
   * if that was already on its way (the driver ignores it). Does nothing once
   * the attempt has ended.
   *
   * The driver ends a job after `outcome` settled, or after a grace period
   * (one second, `KILL_GRACE_MS` in `job-driver.ts`) if it does not. Local
   * mode: an attempt in this thread settles once it has stopped (one stuck in
   * an `await` does not); a worker thread's attempt settles at once and its
   * thread is terminated (piscina does not wait for the thread to exit, so a
   * thread caught in a synchronous file call may finish that call afterwards;
   * what it writes goes with the attempt's or the job's deleted files).
   */
  kill(reason: string): void;
}

/**
 * What a cluster executor reports apart from attempt outcomes: workers that
 * join (or re-register), are lost (process ended, heartbeats missed, fenced),
 * and reduce attempts that could not read a map output (a fetch-failure report
 * sent while the attempt goes on).
 */
export type ExecutorEvent =
  | { type: 'workerJoined'; workerId: string; slots: number }
  | { type: 'workerLost'; workerId: string; reason: string }
  | { type: 'fetchFailed'; reduceAttemptId: string; mapTaskId: string; mapAttemptId: string };

/**
 * Runs task attempts somewhere: threads of this process (local mode) or
 * worker processes (cluster mode). The job driver does everything else.
 */
export interface AttemptExecutor {
  /**
   * Workers and their slots: those at start are announced to the scheduler;
   * at the end, every worker that took part (the report's workers section).
   */
  readonly workers: ReadonlyArray<{ id: string; slots: number }>;
  /**
   * Cluster mode: calls `listener` with each {@link ExecutorEvent} from now
   * on, until the returned function is called. A lost worker's event comes
   * before the outcomes of its attempts settle. Local mode has none.
   */
  subscribe?(listener: (event: ExecutorEvent) => void): () => void;
  /** Cluster mode: the workers the scheduler now excludes from this job (for status); called when that changes. */
  excluded?(workerIds: readonly string[]): void;
  start(workerId: string, msg: TaskMessage, onProgress: (p: TaskProgress) => void): RunningAttempt;
  /** Deletes the scratch files of a succeeded attempt whose output is not wanted. Missing is fine; never rejects. */
  discard(attemptId: string): Promise<void>;
  /** The job ended: deletes what is left of its attempts' map outputs. Never rejects. */
  releaseJob(jobId: string): Promise<void>;
  close(): Promise<void>;
}
