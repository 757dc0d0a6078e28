/**
 * The fixed scenarios of `tsmr batch benchmark` and `bench/batch.ts`, and
 * their targets (issue 4):
 *
 * - `io`, 1000 items of 20 ms: speedup ≥ 15 with 16 workers (efficiency ≥
 *   94%), ≥ 150 with 250 workers;
 * - `numeric` on threads: speedup ≥ 0.9 × cores (1.8 on two cores);
 * - results match in every scenario.
 *
 * CPU-bound scenarios run `runs` times (3) and keep the fastest sequential
 * and the fastest parallel run (the minimum, as Python's `timeit` does): on a
 * shared machine other processes only ever slow a run down, and a parallel
 * run, which needs every core, suffers most. Results must match in every run.
 */
import { availableParallelism } from 'node:os';
import { compareWorkload } from './compare.ts';
import type { CompareReport, RunReport } from './compare.ts';
import { listCorpus } from './corpus.ts';
import type { WorkloadSpec } from './workload-items.ts';

export interface Target {
  /** Smallest acceptable speedup. */
  speedup?: number;
  /** Smallest acceptable efficiency (0–1). */
  efficiency?: number;
}

export interface Scenario {
  name: string;
  spec: WorkloadSpec;
  workers: number;
  /** Undefined: reported, not judged (beyond results matching). */
  target?: Target;
  /** Times the comparison is run; the fastest runs count (default 1). */
  runs?: number;
}

export interface BenchmarkRow extends CompareReport {
  name: string;
  target: Target | undefined;
  /** Comparisons run; `sequential` and `parallel` are the fastest of them. */
  runs: number;
  /** Results match and every target is met. */
  pass: boolean;
}

/**
 * The scenarios. `quick`: a smoke run, about a tenth of the work, no speed
 * targets (only matching results are judged).
 */
export function benchmarkScenarios(options: { quick?: boolean; cores?: number } = {}): Scenario[] {
  const cores = options.cores ?? availableParallelism();
  const quick = options.quick ?? false;
  const base = { failureRate: 0, seed: 1 };
  const io = (count: number, latencyMs: number): WorkloadSpec => ({
    ...base,
    workload: 'io',
    count,
    latencyMs,
  });
  const ioCount = quick ? 100 : 1000;
  const ioLatency = quick ? 5 : 20;
  // CPU-bound scenarios first: they are the ones a busy machine distorts.
  return [
    {
      name: 'numeric (primes, factors)',
      spec: { ...base, workload: 'numeric', count: quick ? 200 : 3000, latencyMs: 0 },
      workers: cores,
      runs: quick ? 1 : 3,
      target: quick || cores < 2 ? undefined : { speedup: 0.9 * cores },
    },
    {
      name: 'text (Brown + SpamAssassin)',
      spec: { ...base, workload: 'text', count: quick ? 200 : listCorpus().length, latencyMs: 0 },
      workers: cores,
      runs: quick ? 1 : 3,
    },
    {
      name: `io ${ioCount} × ${ioLatency} ms, 16 workers`,
      spec: io(ioCount, ioLatency),
      workers: 16,
      target: quick ? undefined : { speedup: 15, efficiency: 0.94 },
    },
    {
      name: `io ${ioCount} × ${ioLatency} ms, 250 workers`,
      spec: io(ioCount, ioLatency),
      workers: 250,
      target: quick ? undefined : { speedup: 150 },
    },
  ];
}

/** Runs every scenario in order (a sequential run is shared by scenarios with the same items). */
export async function runBenchmark(
  options: { quick?: boolean; cores?: number; onRow?: (row: BenchmarkRow) => void } = {},
): Promise<BenchmarkRow[]> {
  const sequentialRuns = new Map<string, RunReport>();
  const rows: BenchmarkRow[] = [];
  for (const scenario of benchmarkScenarios(options)) {
    const key = JSON.stringify(scenario.spec);
    const runs = scenario.runs ?? 1;
    let report: CompareReport | undefined;
    for (let i = 0; i < runs; i++) {
      const next = await compareWorkload(scenario.spec, {
        workers: scenario.workers,
        sequential: sequentialRuns.get(key),
      });
      report = report === undefined ? next : fastest(report, next);
    }
    sequentialRuns.set(key, report!.sequential);
    const row: BenchmarkRow = {
      name: scenario.name,
      target: scenario.target,
      runs,
      ...report!,
      pass: meets(report!, scenario.target),
    };
    rows.push(row);
    options.onRow?.(row);
  }
  return rows;
}

/** The fastest sequential and the fastest parallel run of two comparisons; results must match in all four. */
function fastest(a: CompareReport, b: CompareReport): CompareReport {
  const sequential = b.sequential.durationMs < a.sequential.durationMs ? b.sequential : a.sequential;
  const parallel = b.parallel.durationMs < a.parallel.durationMs ? b.parallel : a.parallel;
  const speedup = sequential.durationMs / parallel.durationMs;
  return {
    ...a,
    sequential,
    parallel,
    speedup,
    efficiency: speedup / a.workers,
    match: a.match && b.match && a.sequential.digest === b.sequential.digest,
  };
}

function meets(report: CompareReport, target: Target | undefined): boolean {
  if (!report.match) return false;
  if (target?.speedup !== undefined && report.speedup < target.speedup) return false;
  if (target?.efficiency !== undefined && report.efficiency < target.efficiency) return false;
  return true;
}
