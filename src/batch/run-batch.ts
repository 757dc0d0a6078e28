/**
 * `runBatch`: process a list of items in parallel, with retries, time
 * limits, cancellation and progress, streaming one result per item.
 */
import { availableParallelism } from 'node:os';
import { ErrorCode, TsmrError, usageError } from '../errors.ts';
import { AsyncExecutor } from './async-executor.ts';
import { normalizeBackoff } from './backoff.ts';
import { BatchRun } from './batch-run.ts';
import type { ExecutorFactory, RunSettings } from './batch-run.ts';
import { itemSource } from './item-source.ts';
import type { BatchItems } from './item-source.ts';
import { isModuleFn, loadModuleFn, moduleSpecifier } from './module-fn.ts';
import { ThreadsExecutor } from './threads-executor.ts';
import type { BatchFn, BatchMode, BatchOptions, ModuleFn } from './types.ts';

/** Items in flight at once in async mode when `concurrency` is not given. */
export const defaultAsyncConcurrency = 16;

/**
 * Runs `fn` on every item of `items` and streams one {@link BatchResult} per
 * item: `{ index, item, ok, value | error, attempts, ms }`.
 *
 * - `items`: an array, or a sync or async iterable (read lazily: at most
 *   `highWaterMark` items are held at once, so ten million items from a
 *   generator run in bounded memory).
 * - `fn`: an async function, run on this thread's event loop with
 *   `concurrency` items in flight (I/O-bound work: HTTP calls, files); or
 *   `{ module, export }`, loaded by worker threads (CPU-bound work), several
 *   items per message (`batchSize`).
 *
 * An item's error never stops the batch: after `retries + 1` failed attempts
 * (exponential backoff with jitter between them) the item's result has
 * `ok: false` and the last error. Only cancellation (`signal`: the iteration
 * throws `TSMR_CANCELLED`), an input iterable that throws (its error is
 * rethrown), a worker module that cannot be loaded (`TSMR_BAD_JOB`) and a
 * throwing `shouldRetry`/`onRetry`/`onProgress` end the iteration early.
 *
 * Nothing runs until the result is iterated; it can be iterated once.
 * Summaries: see `collect` and `consume` in `summary.ts`.
 *
 * ```ts
 * for await (const r of runBatch(urls, (url, { signal }) => fetch(url, { signal }).then((res) => res.status), {
 *   concurrency: 50, retries: 3, timeout: 10_000,
 * })) console.log(r.index, r.ok ? r.value : r.error.message);
 * ```
 *
 * @throws TsmrError `TSMR_USAGE` (synchronously) for a bad option or non-iterable items;
 *   `TSMR_JOB_NOT_IMPORTABLE` for `mode: 'threads'` with a plain function.
 */
export function runBatch<T, R>(
  items: BatchItems<T>,
  fn: BatchFn<T, R> | ModuleFn,
  options: BatchOptions<T> = {},
): BatchRun<T, R> {
  if (typeof fn !== 'function' && !isModuleFn(fn)) {
    throw usageError('runBatch: fn must be a function or { module, export } naming one');
  }
  const mode = checkMode(options.mode, fn);
  const concurrency = positiveInteger(
    'concurrency',
    options.concurrency ?? (mode === 'threads' ? availableParallelism() : defaultAsyncConcurrency),
  );
  const batchSize = options.batchSize ?? 'auto';
  if (batchSize !== 'auto') positiveInteger('batchSize', batchSize);
  const timeout = options.timeout;
  if (timeout !== undefined && !(timeout > 0 && Number.isFinite(timeout))) {
    throw usageError(`runBatch: timeout must be a positive number of ms, got ${timeout}`);
  }
  const source = itemSource(items);
  const settings: RunSettings<T> = {
    retries: options.retries === undefined ? 0 : nonNegativeInteger('retries', options.retries),
    backoff: normalizeBackoff(options.backoff),
    shouldRetry: callback('shouldRetry', options.shouldRetry),
    onRetry: callback('onRetry', options.onRetry),
    ordered: options.ordered ?? true,
    highWaterMark:
      options.highWaterMark === undefined
        ? undefined
        : positiveInteger('highWaterMark', options.highWaterMark),
    total: options.total === undefined ? undefined : nonNegativeInteger('total', options.total),
    onProgress: callback('onProgress', options.onProgress),
    progressInterval: options.progressInterval ?? 100,
    signal: options.signal,
  };
  if (!(settings.progressInterval >= 0)) {
    throw usageError(`runBatch: progressInterval must be ≥ 0 ms, got ${settings.progressInterval}`);
  }
  let makeExecutor: ExecutorFactory<T, R>;
  if (mode === 'threads') {
    const ref = fn as ModuleFn;
    makeExecutor = () =>
      new ThreadsExecutor<T, R>({
        module: moduleSpecifier(ref),
        exportName: ref.export ?? 'default',
        threads: concurrency,
        batchSize,
        total: settings.total ?? source.size,
        timeout,
      });
  } else {
    // A module function in async mode is imported here when the run starts; a failed import ends the run.
    const load = (): BatchFn<T, R> | Promise<BatchFn<T, R>> =>
      typeof fn === 'function'
        ? fn
        : (loadModuleFn(moduleSpecifier(fn), fn.export) as Promise<BatchFn<T, R>>);
    makeExecutor = (signal) => new AsyncExecutor(load(), { concurrency, timeout, signal });
  }
  return new BatchRun(
    source,
    makeExecutor,
    settings,
    mode === 'threads' && batchSize !== 'auto' ? batchSize : 1,
  );
}

function checkMode(mode: BatchMode | undefined, fn: unknown): BatchMode {
  if (mode === undefined) return typeof fn === 'function' ? 'async' : 'threads';
  if (mode !== 'async' && mode !== 'threads') {
    throw usageError(`runBatch: mode must be "async" or "threads", got ${JSON.stringify(mode)}`);
  }
  if (mode === 'threads' && typeof fn === 'function') {
    throw new TsmrError(
      ErrorCode.JOB_NOT_IMPORTABLE,
      'runBatch: threads mode needs a function worker threads can import: pass { module: import.meta.url, export: "name" } instead of the function itself',
    );
  }
  return mode;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw usageError(`runBatch: ${name} must be a positive integer, got ${value}`);
  }
  return value;
}

function nonNegativeInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw usageError(`runBatch: ${name} must be an integer ≥ 0, got ${value}`);
  }
  return value;
}

function callback<F>(name: string, f: F | undefined): F | undefined {
  if (f !== undefined && typeof f !== 'function') throw usageError(`runBatch: ${name} must be a function`);
  return f;
}
