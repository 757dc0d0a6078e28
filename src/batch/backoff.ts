/**
 * Exponential backoff with jitter, after the AWS Architecture Blog's
 * "Exponential Backoff And Jitter" (2015): the cap grows geometrically and a
 * random part of it is dropped so that items failing together do not retry
 * together.
 */
import type { BackoffOptions } from './types.ts';
import { usageError } from '../errors.ts';

/** {@link BackoffOptions} with every default filled in. */
export type Backoff = Required<BackoffOptions>;

/** Defaults: 100 ms, ×2, at most 30 s, full jitter. */
export const defaultBackoff: Backoff = { initialDelay: 100, factor: 2, maxDelay: 30_000, jitter: 1 };

/**
 * Fills in defaults and checks ranges.
 * @throws TsmrError `TSMR_USAGE` for a negative delay, a factor below 1 or a jitter outside 0–1.
 */
export function normalizeBackoff(options: BackoffOptions = {}): Backoff {
  const b = { ...defaultBackoff, ...definedOnly(options) };
  if (!(b.initialDelay >= 0) || !Number.isFinite(b.initialDelay)) {
    throw usageError(`backoff.initialDelay must be a finite number of ms ≥ 0, got ${b.initialDelay}`);
  }
  if (!(b.factor >= 1) || !Number.isFinite(b.factor)) {
    throw usageError(`backoff.factor must be a finite number ≥ 1, got ${b.factor}`);
  }
  if (!(b.maxDelay >= 0)) throw usageError(`backoff.maxDelay must be ≥ 0 ms, got ${b.maxDelay}`);
  if (!(b.jitter >= 0 && b.jitter <= 1))
    throw usageError(`backoff.jitter must be in [0, 1], got ${b.jitter}`);
  return b;
}

/**
 * Delay in ms before retry number `retry` (1 for the first retry):
 * `d × (1 − jitter × random())` where `d = min(maxDelay, initialDelay × factor^(retry − 1))`.
 * `random` returns a number in [0, 1) (default `Math.random`).
 */
export function backoffDelay(retry: number, backoff: Backoff, random: () => number = Math.random): number {
  const cap = Math.min(backoff.maxDelay, backoff.initialDelay * backoff.factor ** (retry - 1));
  return cap * (1 - backoff.jitter * random());
}

function definedOnly<O extends object>(o: O): Partial<O> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<O>;
}
