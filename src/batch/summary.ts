/**
 * Summaries of batch results: counts, duration, throughput and latency
 * percentiles, built in constant memory.
 */
import { performance } from 'node:perf_hooks';
import { LatencyHistogram } from './latency-histogram.ts';
import type { BatchResult } from './types.ts';

/** Latency of items (their `ms`), in ms; percentiles within 0.5%. */
export interface LatencySummary {
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface BatchSummary {
  /** Items with a result. */
  count: number;
  succeeded: number;
  failed: number;
  /** Items that needed more than one attempt. */
  retried: number;
  /** Attempts made over all items. */
  attempts: number;
  /** Wall-clock time of the batch, in ms. */
  durationMs: number;
  /** Items per second (`count / durationMs × 1000`; 0 for a zero duration). */
  throughput: number;
  latency: LatencySummary;
}

/** Accumulates results one at a time; keeps no result. */
export class SummaryBuilder {
  readonly #latency = new LatencyHistogram();
  #count = 0;
  #failed = 0;
  #retried = 0;
  #attempts = 0;

  add(result: BatchResult<unknown, unknown>): void {
    this.#count++;
    if (!result.ok) this.#failed++;
    if (result.attempts > 1) this.#retried++;
    this.#attempts += result.attempts;
    this.#latency.record(result.ms);
  }

  /** The summary so far, for a batch that took `durationMs`. */
  summary(durationMs: number): BatchSummary {
    const h = this.#latency;
    return {
      count: this.#count,
      succeeded: this.#count - this.#failed,
      failed: this.#failed,
      retried: this.#retried,
      attempts: this.#attempts,
      durationMs,
      throughput: durationMs > 0 ? (this.#count * 1000) / durationMs : 0,
      latency: {
        min: h.min,
        mean: h.mean,
        p50: h.percentile(50),
        p90: h.percentile(90),
        p99: h.percentile(99),
        max: h.max,
      },
    };
  }
}

/** Summary of results already at hand, for a batch that took `durationMs`. */
export function summarize(
  results: Iterable<BatchResult<unknown, unknown>>,
  durationMs: number,
): BatchSummary {
  const builder = new SummaryBuilder();
  for (const r of results) builder.add(r);
  return builder.summary(durationMs);
}

/**
 * Iterates `run` to the end, keeping every result (memory grows with the
 * number of items; use {@link consume} for long inputs). The duration is
 * measured from this call, which is when a `runBatch` run starts.
 */
export async function collect<T, R>(
  run: AsyncIterable<BatchResult<T, R>>,
): Promise<{ results: BatchResult<T, R>[]; summary: BatchSummary }> {
  const results: BatchResult<T, R>[] = [];
  const summary = await consume(run, (r) => void results.push(r));
  return { results, summary };
}

/**
 * Iterates `run` to the end in constant memory, passing each result to
 * `onResult` (if given), and returns the summary.
 */
export async function consume<T, R>(
  run: AsyncIterable<BatchResult<T, R>>,
  onResult?: (result: BatchResult<T, R>) => void | Promise<void>,
): Promise<BatchSummary> {
  const start = performance.now();
  const builder = new SummaryBuilder();
  for await (const r of run) {
    builder.add(r);
    if (onResult) await onResult(r);
  }
  return builder.summary(performance.now() - start);
}
