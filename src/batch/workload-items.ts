/**
 * Items of the built-in workloads, made lazily from a seed: the same count,
 * latency, failure rate and seed give the same items in every run.
 */
import { listCorpus } from './corpus.ts';
import { seededRandom } from './seeded-random.ts';
import { workloadsModule } from './workloads.ts';
import type { IoItem, NumericItem, TextItem } from './workloads.ts';
import type { BatchMode, ModuleFn } from './types.ts';

export const workloadNames = ['io', 'text', 'numeric'] as const;
export type WorkloadName = (typeof workloadNames)[number];

export interface WorkloadSpec {
  workload: WorkloadName;
  /** Number of items. */
  count: number;
  /** `io`: mean latency of a call in ms; each item's is within ±20% of it. */
  latencyMs: number;
  /** Probability that an attempt fails, 0–1 (drawn per item and attempt). */
  failureRate: number;
  seed: number;
}

export type WorkloadItem = IoItem | TextItem | NumericItem;

/** Smallest and largest number of the `numeric` workload (trial division up to √n: about 1.6 ms per number on average). */
export const numericRange = [1e12, 1e13] as const;

/** The mode a workload runs in when parallel: `io` waits (async), the others compute (threads). */
export function workloadMode(workload: WorkloadName): BatchMode {
  return workload === 'io' ? 'async' : 'threads';
}

/** The workload's item function, importable by worker threads. */
export function workloadFn(workload: WorkloadName): ModuleFn {
  return { module: workloadsModule, export: workload };
}

/** The items of `spec`, one at a time (text documents cycle through the corpus). */
export function* workloadItems(spec: WorkloadSpec): Generator<WorkloadItem, void, undefined> {
  const { workload, count, latencyMs, failureRate, seed } = spec;
  const docs = workload === 'text' ? listCorpus() : [];
  const [lo, hi] = numericRange;
  for (let id = 0; id < count; id++) {
    const failures = failuresOf(seed, id, failureRate);
    if (workload === 'io') {
      yield { id, latencyMs: latencyMs * (0.8 + 0.4 * seededRandom(seed, id, 0)), failures };
    } else if (workload === 'text') {
      const doc = docs[id % docs.length]!;
      yield { id, path: doc.path, format: doc.format, failures };
    } else {
      yield { id, n: Math.floor(lo + seededRandom(seed, id, 0) * (hi - lo)), failures };
    }
  }
}

/** How many first attempts of item `id` fail: each attempt fails with probability `rate` (at most 64). */
export function failuresOf(seed: number, id: number, rate: number): number {
  let k = 0;
  while (k < 64 && seededRandom(seed, id, k + 1) < rate) k++;
  return k;
}
