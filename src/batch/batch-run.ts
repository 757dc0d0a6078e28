/**
 * One run of `runBatch`: pulls items, hands attempts to an executor, retries
 * failures after a backoff, and streams results to the consumer in input or
 * completion order.
 *
 * Memory is bounded: at most `highWaterMark` items are taken from the input
 * and not yet handed to the consumer; when the consumer is slow, or an early
 * item holds back the ordered output, pulling stops (back-pressure, as in
 * Rust's `StreamExt::buffered`).
 */
import { performance } from 'node:perf_hooks';
import { ErrorCode, TsmrError } from '../errors.ts';
import type { AttemptOutcome } from './attempt.ts';
import { isThenable, toError } from './attempt.ts';
import { backoffDelay } from './backoff.ts';
import type { Backoff } from './backoff.ts';
import type { Executor } from './executor.ts';
import type { ItemSource } from './item-source.ts';
import { ProgressTracker } from './progress-tracker.ts';
import { ResultQueue } from './result-queue.ts';
import type { BatchOptions, BatchResult } from './types.ts';

/** Options of a run with defaults applied. */
export interface RunSettings<T> {
  retries: number;
  backoff: Backoff;
  shouldRetry: BatchOptions<T>['shouldRetry'];
  onRetry: BatchOptions<T>['onRetry'];
  ordered: boolean;
  highWaterMark: number | undefined;
  total: number | undefined;
  onProgress: BatchOptions<T>['onProgress'];
  progressInterval: number;
  signal: AbortSignal | undefined;
}

/** Makes the executor when iteration starts; `signal` aborts when the run stops. */
export type ExecutorFactory<T, R> = (signal: AbortSignal) => Executor<T, R>;

type Step<X> = { kind: 'result'; result: X } | { kind: 'end' } | { kind: 'error'; error: unknown };

interface Waiter<X> {
  resolve(r: IteratorResult<X, undefined>): void;
  reject(error: unknown): void;
}

interface ItemState<T> {
  readonly index: number;
  readonly item: T;
  attempt: number;
  ms: number;
}

/**
 * The results of `runBatch`, as an async iterable that can be iterated once.
 * Nothing runs until iteration starts. Breaking out of the loop stops the
 * batch: running attempts are aborted, threads are freed, and the input's
 * iterator is closed.
 */
export class BatchRun<T, R> implements AsyncIterable<BatchResult<T, R>> {
  readonly #source: ItemSource<T>;
  readonly #makeExecutor: ExecutorFactory<T, R>;
  readonly #settings: RunSettings<T>;
  readonly #initialBatchSize: number;
  readonly #controller = new AbortController();
  readonly #queue: ResultQueue<BatchResult<T, R>>;
  readonly #ready: ItemState<T>[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  #executor: Executor<T, R> | undefined;
  #tracker: ProgressTracker | undefined;
  #iterated = false;
  #begun = false;
  /** The consumer has been told the iteration is over (or has stopped it). */
  #ended = false;
  #ending: Promise<void> | undefined;
  /** Shut down: late outcomes are ignored. */
  #closed = false;
  readonly #waiters: Waiter<BatchResult<T, R>>[] = [];
  #waking = false;
  /** Why the run stopped early (boxed: anything can be thrown, `undefined` included). */
  #fatal: { error: unknown } | undefined;
  #sourceDone = false;
  #pulling = false;
  #pulled = 0;
  /** Pulled and not yet handed to the consumer. */
  #outstanding = 0;
  #running = 0;
  #done = 0;
  #failed = 0;
  #pumping = false;
  #pumpAgain = false;
  #lastProgress = -Infinity;
  #finalProgressSent = false;

  /** @internal Use `runBatch`. */
  constructor(
    source: ItemSource<T>,
    makeExecutor: ExecutorFactory<T, R>,
    settings: RunSettings<T>,
    batchSize = 1,
  ) {
    this.#source = source;
    this.#makeExecutor = makeExecutor;
    this.#settings = settings;
    this.#initialBatchSize = batchSize;
    this.#queue = new ResultQueue(settings.ordered);
  }

  /** Items per message to a thread right now (auto batch size); 1 in async mode. */
  get batchSize(): number {
    return this.#executor?.batchSize ?? this.#initialBatchSize;
  }

  /** @throws TsmrError `TSMR_USAGE` when called a second time. */
  [Symbol.asyncIterator](): AsyncIterableIterator<BatchResult<T, R>> {
    if (this.#iterated) {
      throw new TsmrError(ErrorCode.USAGE, 'a batch run can be iterated only once; call runBatch again');
    }
    this.#iterated = true;
    // A hand-written iterator rather than an async generator: one promise per result.
    const iterator: AsyncIterableIterator<BatchResult<T, R>> = {
      next: () => this.#next(),
      return: () => this.#return(),
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  #begin(): void {
    this.#begun = true;
    this.#tracker = new ProgressTracker(performance.now());
    const signal = this.#settings.signal;
    if (signal?.aborted) {
      this.#stop(cancelled(signal.reason));
      return;
    }
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    try {
      this.#executor = this.#makeExecutor(this.#controller.signal);
    } catch (error) {
      this.#stop(error);
      return;
    }
    this.#pump();
  }

  readonly #onAbort = (): void => this.#stop(cancelled(this.#settings.signal!.reason));

  #next(): Promise<IteratorResult<BatchResult<T, R>, undefined>> {
    if (!this.#begun) this.#begin();
    const step = this.#waiters.length === 0 ? this.#step() : undefined;
    if (step === undefined) return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (step.kind === 'result') return Promise.resolve({ done: false, value: step.result });
    return this.#finish(step);
  }

  async #return(): Promise<IteratorResult<BatchResult<T, R>, undefined>> {
    this.#ended = true;
    await this.#end();
    for (const w of this.#waiters.splice(0)) w.resolve({ done: true, value: undefined });
    return { done: true, value: undefined };
  }

  /** What the consumer gets next, if that is known now (undefined: wait). */
  #step(): Step<BatchResult<T, R>> | undefined {
    if (this.#ended) return { kind: 'end' };
    if (this.#fatal !== undefined) {
      this.#ended = true;
      return { kind: 'error', error: this.#fatal.error };
    }
    const result = this.#queue.shift();
    if (result !== undefined) {
      this.#outstanding--;
      this.#pump();
      return { kind: 'result', result };
    }
    if (this.#sourceDone && this.#outstanding === 0) {
      this.#ended = true;
      return { kind: 'end' };
    }
    return undefined;
  }

  /** Shuts down, then ends the iteration or throws the error. */
  async #finish(step: Step<BatchResult<T, R>>): Promise<IteratorResult<BatchResult<T, R>, undefined>> {
    await this.#end();
    if (step.kind === 'error') throw step.error;
    return { done: true, value: undefined };
  }

  /** Hands whatever is ready to waiting `next()` calls. */
  #wakeUp(): void {
    if (this.#waking) return; // the loop below is already running further up the stack
    this.#waking = true;
    try {
      while (this.#waiters.length > 0) {
        const step = this.#step();
        if (step === undefined) return;
        const waiter = this.#waiters.shift()!;
        if (step.kind === 'result') waiter.resolve({ done: false, value: step.result });
        else this.#finish(step).then(waiter.resolve, waiter.reject);
      }
    } finally {
      this.#waking = false;
    }
  }

  /** Ends the run with `error` (thrown to the consumer). */
  #stop(error: unknown): void {
    if (this.#fatal === undefined) this.#fatal = { error };
    this.#controller.abort(error);
    this.#wakeUp();
  }

  #end(): Promise<void> {
    this.#ending ??= this.#shutdown();
    return this.#ending;
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    this.#settings.signal?.removeEventListener('abort', this.#onAbort);
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#controller.abort(this.#fatal?.error ?? new TsmrError(ErrorCode.CANCELLED, 'the batch was stopped'));
    // Not awaited: an async input may be waiting for data that never comes.
    if (!this.#sourceDone) void this.#source.close();
    await this.#executor?.close();
  }

  #highWaterMark(): number {
    return this.#settings.highWaterMark ?? 2 * this.#executor!.capacity;
  }

  /**
   * Starts retries and new items while the executor has room and the window
   * allows. Re-entrant calls (a synchronous outcome settles inside the loop)
   * only ask the running loop to go round again, so the stack stays flat.
   */
  #pump(): void {
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#pumpAgain = false;
        this.#fill();
      } while (this.#pumpAgain);
    } finally {
      this.#pumping = false;
    }
  }

  #fill(): void {
    if (this.#closed || this.#fatal !== undefined) return;
    const executor = this.#executor!;
    try {
      while (this.#running < executor.capacity && !this.#closed && this.#fatal === undefined) {
        const retry = this.#ready.shift();
        if (retry !== undefined) {
          this.#start(retry);
          continue;
        }
        if (this.#sourceDone || this.#pulling || this.#outstanding >= this.#highWaterMark()) return;
        const pulled = this.#source.next();
        if (isThenable(pulled)) {
          this.#pulling = true;
          pulled.then(
            (r) => {
              this.#pulling = false;
              this.#accept(r);
              this.#pump();
            },
            (error: unknown) => {
              this.#pulling = false;
              this.#stop(error);
            },
          );
          return;
        }
        this.#accept(pulled);
      }
    } catch (error) {
      // The input's iterator threw: the batch cannot go on.
      this.#stop(error);
    }
  }

  #accept(r: IteratorResult<T>): void {
    if (this.#closed || this.#fatal !== undefined) return;
    if (r.done) {
      this.#sourceDone = true;
      this.#progress();
      this.#wakeUp();
      return;
    }
    this.#outstanding++;
    this.#start({ index: this.#pulled++, item: r.value, attempt: 0, ms: 0 });
  }

  #start(state: ItemState<T>): void {
    state.attempt++;
    this.#running++;
    let outcome;
    try {
      outcome = this.#executor!.run({ index: state.index, item: state.item, attempt: state.attempt });
    } catch (error) {
      this.#running--;
      this.#stop(error);
      return;
    }
    if (!isThenable(outcome)) {
      this.#settle(state, outcome);
      return;
    }
    outcome.then(
      (o) => this.#settle(state, o),
      (error: unknown) => {
        this.#running--;
        this.#stop(error);
      },
    );
  }

  #settle(state: ItemState<T>, outcome: AttemptOutcome<R>): void {
    this.#running--;
    if (this.#closed || this.#fatal !== undefined) return;
    state.ms += outcome.ms;
    try {
      if (!outcome.ok && this.#retryable(state, outcome.error)) {
        this.#scheduleRetry(state, outcome.error);
      } else {
        this.#complete(state, outcome);
      }
    } catch (error) {
      // A user callback (shouldRetry, onRetry, onProgress) threw.
      this.#stop(error);
      return;
    }
    this.#pump();
  }

  #retryable(state: ItemState<T>, error: Error): boolean {
    const { retries, shouldRetry } = this.#settings;
    return state.attempt <= retries && (shouldRetry === undefined || shouldRetry(error, state.attempt));
  }

  #scheduleRetry(state: ItemState<T>, error: Error): void {
    const delayMs = backoffDelay(state.attempt, this.#settings.backoff);
    this.#settings.onRetry?.({
      index: state.index,
      item: state.item,
      attempt: state.attempt,
      error,
      delayMs,
    });
    state.ms += delayMs;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#ready.push(state);
      this.#pump();
    }, delayMs);
    this.#timers.add(timer);
  }

  #complete(state: ItemState<T>, outcome: AttemptOutcome<R>): void {
    const { index, item, attempt: attempts, ms } = state;
    this.#done++;
    if (outcome.ok) {
      this.#queue.push({ index, item, ok: true, value: outcome.value, attempts, ms });
    } else {
      this.#failed++;
      this.#queue.push({ index, item, ok: false, error: toError(outcome.error), attempts, ms });
    }
    this.#wakeUp();
    this.#progress();
  }

  /** Reports progress at most every `progressInterval` ms, and always once when every item is done. */
  #progress(): void {
    const { onProgress, progressInterval } = this.#settings;
    if (onProgress === undefined || this.#finalProgressSent) return;
    const now = performance.now();
    const size = this.#source.size;
    const allDone =
      (this.#sourceDone && this.#done === this.#pulled) || (size !== undefined && this.#done === size);
    if (!allDone && now - this.#lastProgress < progressInterval) return;
    this.#lastProgress = now;
    if (allDone) this.#finalProgressSent = true;
    const total = this.#settings.total ?? this.#source.size ?? (this.#sourceDone ? this.#pulled : undefined);
    onProgress(this.#tracker!.snapshot(now, this.#done, this.#failed, total));
  }
}

function cancelled(reason: unknown): TsmrError {
  return new TsmrError(ErrorCode.CANCELLED, 'the batch was cancelled by its AbortSignal', { cause: reason });
}
