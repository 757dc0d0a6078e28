/**
 * How a cluster worker calls its coordinator: every `WorkerService` call is
 * idempotent (`worker_service.proto`), so a call that failed in transport
 * (connection refused or cut, deadline, an HTTP/2 reset) is simply made
 * again after a backoff, until it is answered, its deadline passes, or the
 * caller's signal aborts. An answer that is an error of the contract
 * (`UNAUTHENTICATED`, `INVALID_ARGUMENT`, `FAILED_PRECONDITION`…) is not
 * retried.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { Code, ConnectError } from '@connectrpc/connect';
import { backoffDelay, normalizeBackoff } from '../../batch/backoff.ts';
import type { BackoffOptions } from '../../batch/types.ts';
import { ErrorCode, TsmrError } from '../../errors.ts';
import type { Logger } from '../../observe/logger.ts';

/** Codes of a call that may succeed if made again: the coordinator was not reached or did not answer. */
const TRANSIENT: ReadonlySet<Code> = new Set([
  Code.Unavailable,
  Code.DeadlineExceeded,
  Code.Aborted,
  Code.Unknown,
  Code.Canceled,
]);

/** True for a failure in transport (see the module doc). */
export function isTransient(error: unknown): boolean {
  return TRANSIENT.has(ConnectError.from(error).code);
}

/** Default backoff between tries: 200 ms, ×2, at most 5 s, full jitter. */
export const rpcBackoff: BackoffOptions = { initialDelay: 200, factor: 2, maxDelay: 5000, jitter: 1 };

export interface RetryOptions {
  /** Stops retrying: the call rejects with the signal's reason. */
  signal: AbortSignal;
  log: Logger;
  /** What is being called, for the log (`ReportOutcome m-00003_0`). */
  what: string;
  /** Give up after this many ms of failed tries (default: never). */
  giveUpAfterMs?: number;
  backoff?: BackoffOptions;
}

/**
 * Makes `call` until it is answered. A transient failure is logged at
 * `warn` (at `debug` after the first) and retried.
 * @throws the call's error when it is not transient, or when
 *   `giveUpAfterMs` passed (the last transient error); the signal's reason
 *   when it aborted.
 */
export async function withRetries<T>(
  call: (signal: AbortSignal) => Promise<T>,
  opts: RetryOptions,
): Promise<T> {
  const backoff = normalizeBackoff({ ...rpcBackoff, ...opts.backoff });
  const started = Date.now();
  for (let retry = 1; ; retry++) {
    opts.signal.throwIfAborted();
    try {
      return await call(opts.signal);
    } catch (error) {
      opts.signal.throwIfAborted();
      if (!isTransient(error)) throw error;
      const wait = backoffDelay(retry, backoff);
      if (opts.giveUpAfterMs !== undefined && Date.now() - started + wait > opts.giveUpAfterMs) throw error;
      opts.log[retry === 1 ? 'warn' : 'debug'](
        { err: ConnectError.from(error), retry, waitMs: Math.round(wait) },
        `${opts.what} failed; trying again`,
      );
      await delay(wait, undefined, { signal: opts.signal });
    }
  }
}

/**
 * A coordinator's error answer as a TsmrError: `UNAUTHENTICATED` is
 * `TSMR_AUTH`, a transport failure `TSMR_IO` naming the coordinator, anything
 * else `TSMR_INTERNAL`; the message is the coordinator's.
 */
export function rpcError(error: unknown, coordinator: string, what: string): TsmrError {
  const e = ConnectError.from(error);
  const details = { coordinator, rpcCode: Code[e.code] };
  if (e.code === Code.Unauthenticated) {
    return new TsmrError(
      ErrorCode.AUTH,
      `the coordinator ${coordinator} refused the cluster token (${what}): ${e.rawMessage}; ` +
        'give the same --token-file or TSMR_TOKEN as the coordinator',
      { cause: e, details },
    );
  }
  if (isTransient(e)) {
    return new TsmrError(
      ErrorCode.IO,
      `cannot reach the coordinator ${coordinator} (${what}): ${e.rawMessage}`,
      {
        cause: e,
        details,
      },
    );
  }
  return new TsmrError(
    ErrorCode.INTERNAL,
    `the coordinator ${coordinator} answered ${what} with: ${e.rawMessage}`,
    {
      cause: e,
      details,
    },
  );
}
