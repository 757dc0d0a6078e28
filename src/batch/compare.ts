/**
 * Runs a built-in workload sequentially and in parallel on the same items and
 * reports what parallelism bought: speedup (sequential time / parallel
 * time), efficiency (speedup / workers), throughputs, errors, and whether
 * both runs produced the same results.
 *
 * "Sequential" is one item at a time on this thread; "parallel" is `workers`
 * items in flight on the event loop (`io`) or `workers` worker threads
 * (`text`, `numeric`). Injected failures are drawn per item and attempt from
 * the seed, so both runs fail the same items; results match when every
 * item's outcome (value, or error message) is the same, compared through a
 * SHA-256 digest of the ordered results so that memory stays bounded.
 */
import { createHash } from 'node:crypto';
import { runBatch } from './run-batch.ts';
import { consume } from './summary.ts';
import type { BatchSummary } from './summary.ts';
import type { BatchMode, BatchProgress, BatchResult } from './types.ts';
import { workloadFn, workloadItems, workloadMode } from './workload-items.ts';
import type { WorkloadItem, WorkloadSpec } from './workload-items.ts';
import * as workloads from './workloads.ts';

export interface RunOptions {
  /** `false`: one item at a time on this thread. */
  parallel: boolean;
  /** Items in flight (`io`) or threads (`text`, `numeric`) when parallel. */
  workers: number;
  /** Threads mode batch size (default `auto`). */
  batchSize?: number | 'auto';
  /** Retries per item (default 0). */
  retries?: number;
  /** Time limit per attempt, ms. */
  timeout?: number;
  onProgress?: (progress: BatchProgress) => void;
  /** Cancels the run (`TSMR_CANCELLED`). */
  signal?: AbortSignal;
}

/** One run of a workload. */
export interface RunReport extends BatchSummary {
  mode: BatchMode;
  /** 1 when sequential. */
  workers: number;
  /** Items per message to a thread (the final auto size); 1 in async mode. */
  batchSize: number;
  /** SHA-256 of the ordered results (index, outcome, value or error message). */
  digest: string;
}

export interface CompareReport {
  spec: WorkloadSpec;
  workers: number;
  sequential: RunReport;
  parallel: RunReport;
  /** Sequential duration / parallel duration. */
  speedup: number;
  /** Speedup / workers (1 = perfect scaling). */
  efficiency: number;
  /** Both runs gave the same outcome for every item. */
  match: boolean;
}

/** Runs `spec`'s items once, sequentially or in parallel. */
export async function runWorkload(spec: WorkloadSpec, options: RunOptions): Promise<RunReport> {
  const mode: BatchMode = options.parallel ? workloadMode(spec.workload) : 'async';
  const workers = options.parallel ? options.workers : 1;
  const fn =
    mode === 'threads'
      ? workloadFn(spec.workload)
      : (workloads[spec.workload] as (
          item: WorkloadItem,
          ctx: Parameters<typeof workloads.io>[1],
        ) => unknown);
  const run = runBatch<WorkloadItem, unknown>(workloadItems(spec), fn, {
    mode,
    concurrency: workers,
    batchSize: options.batchSize,
    retries: options.retries,
    backoff: { initialDelay: 10 },
    timeout: options.timeout,
    total: spec.count,
    onProgress: options.onProgress,
    progressInterval: 200,
    signal: options.signal,
  });
  const hash = createHash('sha256');
  const summary = await consume(run, (r) => void hash.update(outcomeLine(r)));
  return { ...summary, mode, workers, batchSize: run.batchSize, digest: hash.digest('hex') };
}

/** Runs `spec` sequentially, then in parallel, and compares. `sequential` reuses an earlier sequential run. */
export async function compareWorkload(
  spec: WorkloadSpec,
  options: Omit<RunOptions, 'parallel'> & {
    sequential?: RunReport;
    onPhase?: (phase: 'sequential' | 'parallel') => void;
  },
): Promise<CompareReport> {
  let sequential = options.sequential;
  if (sequential === undefined) {
    options.onPhase?.('sequential');
    sequential = await runWorkload(spec, { ...options, parallel: false });
  }
  options.onPhase?.('parallel');
  const parallel = await runWorkload(spec, { ...options, parallel: true });
  const speedup = parallel.durationMs > 0 ? sequential.durationMs / parallel.durationMs : 0;
  return {
    spec,
    workers: options.workers,
    sequential,
    parallel,
    speedup,
    efficiency: speedup / options.workers,
    match: sequential.digest === parallel.digest && sequential.count === parallel.count,
  };
}

function outcomeLine(r: BatchResult<unknown, unknown>): string {
  return `${r.index}\t${r.ok ? `ok\t${JSON.stringify(r.value)}` : `error\t${r.error.message}`}\n`;
}
