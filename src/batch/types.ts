/**
 * Public types of `runBatch`: the item function, its options, and the result
 * records it streams.
 */

/** What an item function receives besides the item. */
export interface BatchContext {
  /** Position of the item in the input (0-based). */
  readonly index: number;
  /** Attempt number, 1 for the first try, 2 for the first retry… */
  readonly attempt: number;
  /**
   * Aborted when this attempt times out, when the batch is cancelled (the
   * `signal` option), or when the consumer stops iterating. Pass it on to
   * `fetch`, timers and streams so that abandoned work stops.
   */
  readonly signal: AbortSignal;
}

/** An item function: returns (or resolves to) the item's value, or throws. */
export type BatchFn<T, R> = (item: T, context: BatchContext) => R | Promise<R>;

/**
 * A function that worker threads can load: an ES module (a path or a
 * `file:` URL; `.ts` modules run through Node's type stripping) and the name
 * of one of its exports (default `"default"`). The export has the
 * {@link BatchFn} signature; items, values and errors cross the thread
 * boundary by structured clone.
 */
export interface ModuleFn {
  readonly module: string | URL;
  readonly export?: string;
}

/** `async`: on this thread's event loop; `threads`: on a pool of worker threads (piscina). */
export type BatchMode = 'async' | 'threads';

/** Retry policy of a failed attempt. */
export interface BackoffOptions {
  /** Delay before the first retry, in ms (default 100). */
  readonly initialDelay?: number;
  /** Each further retry waits this many times longer (default 2). */
  readonly factor?: number;
  /** Upper bound of a delay, in ms (default 30 000). */
  readonly maxDelay?: number;
  /**
   * Fraction of the delay that is random, 0–1 (default 1, "full jitter" in
   * the AWS Architecture Blog's terms): the delay is drawn uniformly from
   * `[d × (1 − jitter), d]` where `d = min(maxDelay, initialDelay × factor^(retry − 1))`.
   */
  readonly jitter?: number;
}

/** Facts about one retry, for {@link BatchOptions.onRetry}. */
export interface RetryEvent<T> {
  readonly index: number;
  readonly item: T;
  /** The attempt that failed (1-based). */
  readonly attempt: number;
  readonly error: Error;
  /** How long the item waits before its next attempt, in ms. */
  readonly delayMs: number;
}

/** Progress of a batch, for {@link BatchOptions.onProgress}. */
export interface BatchProgress {
  /** Items finished (succeeded or failed for good). */
  readonly done: number;
  /** Of `done`, the items that failed after their last attempt. */
  readonly failed: number;
  /** Number of items, when known (arrays, sets, or the `total` option). */
  readonly total: number | undefined;
  /** Items finished per second over the last few seconds. */
  readonly rate: number;
  /** Seconds until all items are done at `rate`; undefined when `total` is unknown or `rate` is 0. */
  readonly etaSeconds: number | undefined;
  /** Milliseconds since the batch started. */
  readonly elapsedMs: number;
}

/** Options of `runBatch`. Durations are milliseconds. */
export interface BatchOptions<T = unknown> {
  /**
   * `async` mode: items in flight at once (default 16). `threads` mode: worker
   * threads (default `os.availableParallelism()`).
   */
  readonly concurrency?: number;
  /** Default: `async` for a function, `threads` for a {@link ModuleFn}. */
  readonly mode?: BatchMode;
  /**
   * Threads mode: items sent to a thread in one message. `auto` (default)
   * sizes batches from the measured time per item and per message so that
   * messaging stays under 2% of the work. Ignored in async mode.
   */
  readonly batchSize?: 'auto' | number;
  /** Retries after a failed attempt (default 0): an item gets at most `retries + 1` attempts. */
  readonly retries?: number;
  /** Delays between attempts (exponential backoff with jitter). */
  readonly backoff?: BackoffOptions;
  /** Whether a failed attempt is retried (default: always, while retries remain). */
  readonly shouldRetry?: (error: Error, attempt: number) => boolean;
  /** Called before each retry wait. Runs on this thread. */
  readonly onRetry?: (event: RetryEvent<T>) => void;
  /**
   * Time limit of one attempt (default: none). An attempt that runs longer
   * fails with `TSMR_TASK_TIMEOUT` and its `signal` is aborted. In threads
   * mode a thread stuck in synchronous code is terminated and replaced.
   */
  readonly timeout?: number;
  /** Cancels the batch: iteration then throws `TSMR_CANCELLED` and in-flight attempts are aborted. */
  readonly signal?: AbortSignal;
  /** `true` (default): results in input order. `false`: in completion order. */
  readonly ordered?: boolean;
  /**
   * Most items taken from the input and not yet handed to the consumer
   * (default: twice the items that can run at once). Bounds memory; in
   * ordered mode one slow item holds back at most this many finished ones.
   */
  readonly highWaterMark?: number;
  /** Number of items, for progress, when `items` is an iterable without a size. */
  readonly total?: number;
  /** Called at most every `progressInterval` ms while items finish, and once when all are done. */
  readonly onProgress?: (progress: BatchProgress) => void;
  /** Minimum time between two `onProgress` calls, in ms (default 100; 0: after every item). */
  readonly progressInterval?: number;
}

interface BatchResultBase<T> {
  /** Position of the item in the input (0-based). */
  readonly index: number;
  readonly item: T;
  /** Attempts made (1 when the first one settled it). */
  readonly attempts: number;
  /**
   * Milliseconds spent on the item: its attempts' run times plus the backoff
   * waits between them (time queued for a free slot is not counted).
   */
  readonly ms: number;
}

/** The item's function returned `value`. */
export interface BatchSuccess<T, R> extends BatchResultBase<T> {
  readonly ok: true;
  readonly value: R;
}

/** Every attempt failed; `error` is the last attempt's. */
export interface BatchFailure<T> extends BatchResultBase<T> {
  readonly ok: false;
  readonly error: Error;
}

/** One item's outcome. */
export type BatchResult<T, R> = BatchSuccess<T, R> | BatchFailure<T>;
