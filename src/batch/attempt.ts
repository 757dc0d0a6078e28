/**
 * Runs one attempt of one item: calls the item function, enforces the time
 * limit, and turns whatever happens into an {@link AttemptOutcome}. Shared by
 * the async executor (this thread) and the thread worker.
 */
import { performance } from 'node:perf_hooks';
import { ErrorCode, TsmrError } from '../errors.ts';
import type { BatchFn } from './types.ts';

/** What one attempt produced; `ms` is its run time. */
export type AttemptOutcome<R> = { ok: true; value: R; ms: number } | { ok: false; error: Error; ms: number };

/** An attempt to run: the item, its position and its attempt number (1-based). */
export interface AttemptInput<T> {
  index: number;
  item: T;
  attempt: number;
}

/** Error of an attempt that ran longer than `timeoutMs`. */
export function timeoutError(index: number, attempt: number, timeoutMs: number): TsmrError {
  return new TsmrError(
    ErrorCode.TASK_TIMEOUT,
    `item ${index} attempt ${attempt} ran longer than the ${timeoutMs} ms timeout; raise \`timeout\` or make the item function honour its signal`,
    { details: { index, attempt, timeoutMs } },
  );
}

/** Thrown values that are not errors (strings, numbers…) become a `TSMR_USER_CODE` error with the value as cause. */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  if (typeof thrown === 'object' && thrown !== null && 'message' in thrown && 'stack' in thrown) {
    return thrown as Error;
  }
  return new TsmrError(ErrorCode.USER_CODE, `item function threw a non-error value: ${String(thrown)}`, {
    cause: thrown,
  });
}

/** True for promises and other thenables. */
export function isThenable<X>(value: X | PromiseLike<X>): value is PromiseLike<X> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * Runs `fn` once and never throws or rejects. A synchronous function gets a
 * synchronous outcome (no promise: cheap items stay cheap). With
 * `timeoutMs`, the attempt fails with `TSMR_TASK_TIMEOUT` when its promise
 * has not settled in time (its signal is then aborted), and also when
 * synchronous code returned after the limit. `signal` is the batch's signal
 * (aborted on cancel).
 */
export function runAttempt<T, R>(
  fn: BatchFn<T, R>,
  input: AttemptInput<T>,
  timeoutMs: number | undefined,
  signal: AbortSignal,
): AttemptOutcome<R> | Promise<AttemptOutcome<R>> {
  const { index, item, attempt } = input;
  const start = performance.now();
  const controller = timeoutMs === undefined ? undefined : new AbortController();
  let returned: R | PromiseLike<R>;
  try {
    returned = fn(item, { index, attempt, signal: controller?.signal ?? signal });
  } catch (thrown) {
    return { ok: false, error: toError(thrown), ms: performance.now() - start };
  }
  if (!isThenable(returned)) {
    const ms = performance.now() - start;
    // Synchronous code cannot be interrupted on its own thread; it is judged when it returns.
    if (timeoutMs !== undefined && ms > timeoutMs) {
      return { ok: false, error: timeoutError(index, attempt, timeoutMs), ms };
    }
    return { ok: true, value: returned, ms };
  }
  if (timeoutMs === undefined) {
    return Promise.resolve(returned).then(
      (value) => ({ ok: true, value, ms: performance.now() - start }),
      (thrown: unknown) => ({ ok: false, error: toError(thrown), ms: performance.now() - start }),
    );
  }
  return raceTimeout(returned, start, input, timeoutMs, controller!, signal);
}

async function raceTimeout<R>(
  returned: PromiseLike<R>,
  start: number,
  input: AttemptInput<unknown>,
  timeoutMs: number,
  controller: AbortController,
  signal: AbortSignal,
): Promise<AttemptOutcome<R>> {
  const { index, attempt } = input;
  const onAbort = (): void => controller.abort(signal.reason);
  if (signal.aborted) controller.abort(signal.reason);
  else signal.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  try {
    const elapsed = performance.now() - start;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => {
          const error = timeoutError(index, attempt, timeoutMs);
          controller.abort(error);
          reject(error);
        },
        Math.max(0, timeoutMs - elapsed),
      );
    });
    const value = await Promise.race([returned, timedOut]);
    const ms = performance.now() - start;
    if (ms > timeoutMs) return { ok: false, error: timeoutError(index, attempt, timeoutMs), ms };
    return { ok: true, value, ms };
  } catch (thrown) {
    return { ok: false, error: toError(thrown), ms: performance.now() - start };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}
