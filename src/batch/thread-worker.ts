/**
 * The piscina worker of threads mode: runs the attempts of one message in
 * sequence and returns their outcomes with the time the work took. Errors go
 * back serialized (code, message, stack, cause survive).
 */
import { performance } from 'node:perf_hooks';
import { serializeError } from '../errors.ts';
import type { SerializedError } from '../errors.ts';
import { isThenable, runAttempt } from './attempt.ts';
import type { AttemptInput } from './attempt.ts';
import { epochNow } from './epoch-clock.ts';
import { loadModuleFn } from './module-fn.ts';

/** One message to a thread. */
export interface ChunkTask {
  /** Import specifier of the item function's module. */
  module: string;
  exportName: string;
  /** Per-attempt limit in ms. */
  timeout: number | undefined;
  attempts: AttemptInput<unknown>[];
}

/** An attempt's outcome as it crosses the thread boundary. */
export type WireOutcome =
  { ok: true; value: unknown; ms: number } | { ok: false; error: SerializedError; ms: number };

/**
 * The reply: outcomes in the order of `attempts` with the work time, and
 * when the work started and ended and the thread's previous message ended
 * (ms since the epoch, `performance.timeOrigin + performance.now()`, to
 * measure time in transit); or an error that ends the batch.
 */
export type ChunkReply =
  | { outcomes: WireOutcome[]; workMs: number; startedAt: number; endedAt: number; previousEndedAt: number }
  | { fatal: SerializedError };

/** When this thread finished its previous message (0: none yet). */
let previousEndedAt = 0;

// Attempts in a thread are never cancelled from inside: the pool terminates the thread instead.
const neverAborted = new AbortController().signal;

export default async function runChunk(task: ChunkTask): Promise<ChunkReply> {
  let fn;
  try {
    fn = await loadModuleFn(task.module, task.exportName);
  } catch (error) {
    return { fatal: serializeError(error) };
  }
  const startedAt = epochNow();
  const start = performance.now();
  const outcomes: WireOutcome[] = [];
  for (const attempt of task.attempts) {
    const run = runAttempt(fn, attempt, task.timeout, neverAborted);
    const o = isThenable(run) ? await run : run;
    outcomes.push(o.ok ? o : { ok: false, error: serializeError(o.error), ms: o.ms });
  }
  const workMs = performance.now() - start;
  const reply = { outcomes, workMs, startedAt, endedAt: startedAt + workMs, previousEndedAt };
  previousEndedAt = reply.endedAt;
  return reply;
}
