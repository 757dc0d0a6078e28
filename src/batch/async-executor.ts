/**
 * Runs attempts on this thread's event loop, for I/O-bound item functions:
 * up to `concurrency` promises in flight.
 */
import { runAttempt } from './attempt.ts';
import type { AttemptInput, AttemptOutcome } from './attempt.ts';
import type { Executor } from './executor.ts';
import type { BatchFn } from './types.ts';

export class AsyncExecutor<T, R> implements Executor<T, R> {
  readonly capacity: number;
  readonly batchSize = 1;
  readonly #fn: BatchFn<T, R> | Promise<BatchFn<T, R>>;
  readonly #timeout: number | undefined;
  readonly #signal: AbortSignal;

  /**
   * `fn` may be a promise of the function (a module being imported): if it
   * rejects, `run` rejects, which ends the batch. `signal` aborts every
   * attempt's signal (batch cancelled or closed).
   */
  constructor(
    fn: BatchFn<T, R> | Promise<BatchFn<T, R>>,
    options: { concurrency: number; timeout: number | undefined; signal: AbortSignal },
  ) {
    this.#fn = fn;
    if (fn instanceof Promise) fn.catch(() => {}); // reported by `run`, if it is ever called
    this.capacity = options.concurrency;
    this.#timeout = options.timeout;
    this.#signal = options.signal;
  }

  run(input: AttemptInput<T>): AttemptOutcome<R> | Promise<AttemptOutcome<R>> {
    const fn = this.#fn;
    if (typeof fn === 'function') return runAttempt(fn, input, this.#timeout, this.#signal);
    return fn.then((loaded) => runAttempt(loaded, input, this.#timeout, this.#signal));
  }

  async close(): Promise<void> {}
}
