/**
 * Text output of `tsmr batch` and `bench/batch.ts`: aligned tables.
 */
import type { BenchmarkRow, Target } from './benchmark.ts';
import type { CompareReport, RunReport } from './compare.ts';
import type { WorkloadSpec } from './workload-items.ts';
import { formatDuration, formatRate } from '../observe/units.ts';

/** Columns padded to their widest cell; cells starting with a number (`1.2k items/s`, `2 min 05 s`) right-aligned. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) =>
        /^[\d.,×%/ -]+[a-z\d/%× ]*$/i.test(c) && i > 0 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!),
      )
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function describeWorkload(spec: WorkloadSpec): string {
  const parts: string[] = [spec.workload];
  if (spec.workload === 'io') parts.push(`latency ${formatDuration(spec.latencyMs)} ± 20%`);
  if (spec.failureRate > 0) parts.push(`failure rate ${spec.failureRate}`);
  parts.push(`seed ${spec.seed}`);
  return `${parts[0]} (${parts.slice(1).join(', ')})`;
}

function parallelism(run: RunReport): string {
  return run.mode === 'threads'
    ? `${run.workers} threads, batch size ${run.batchSize}`
    : `${run.workers} in flight (async), batch size 1`;
}

/** The report of `tsmr batch compare`. */
export function formatCompare(report: CompareReport): string {
  const { sequential: s, parallel: p } = report;
  const table = formatTable(
    ['', 'sequential', 'parallel'],
    [
      ['time', formatDuration(s.durationMs), formatDuration(p.durationMs)],
      ['throughput', formatRate(s.throughput, 'items'), formatRate(p.throughput, 'items')],
      ['errors', String(s.failed), String(p.failed)],
      ['latency p50', formatDuration(s.latency.p50), formatDuration(p.latency.p50)],
      ['latency p99', formatDuration(s.latency.p99), formatDuration(p.latency.p99)],
    ],
  );
  return [
    `items          ${report.spec.count}`,
    `workload       ${describeWorkload(report.spec)}`,
    `parallel       ${parallelism(p)}`,
    '',
    table,
    '',
    `speedup        ${report.speedup.toFixed(2)}×`,
    `efficiency     ${(report.efficiency * 100).toFixed(1)}% (speedup / ${report.workers} workers)`,
    `results match  ${report.match ? 'yes' : 'NO'}`,
  ].join('\n');
}

/** The report of `tsmr batch parallel`. */
export function formatRun(spec: WorkloadSpec, run: RunReport): string {
  const rows: [string, string][] = [
    ['items', String(run.count)],
    ['workload', describeWorkload(spec)],
    ['parallel', parallelism(run)],
    ['time', formatDuration(run.durationMs)],
    ['throughput', formatRate(run.throughput, 'items')],
    ['succeeded', String(run.succeeded)],
    ['failed', String(run.failed)],
    ['retried', String(run.retried)],
    [
      'latency',
      `p50 ${formatDuration(run.latency.p50)}, p90 ${formatDuration(run.latency.p90)}, p99 ${formatDuration(run.latency.p99)}, max ${formatDuration(run.latency.max)}`,
    ],
  ];
  return rows.map(([k, v]) => `${k.padEnd(12)} ${v}`).join('\n');
}

function targetText(t: Target | undefined): string {
  if (t === undefined) return 'match';
  const parts: string[] = [];
  if (t.speedup !== undefined) parts.push(`≥ ${t.speedup.toFixed(1)}×`);
  if (t.efficiency !== undefined) parts.push(`≥ ${(t.efficiency * 100).toFixed(0)}%`);
  return parts.join(', ');
}

/** The table of `tsmr batch benchmark` and `npm run bench`. */
export function formatBenchmark(rows: readonly BenchmarkRow[]): string {
  return formatTable(
    [
      'scenario',
      'items',
      'workers',
      'runs',
      'batch',
      'sequential',
      'parallel',
      'speedup',
      'efficiency',
      'seq rate',
      'par rate',
      'errors',
      'match',
      'target',
      'result',
    ],
    rows.map((r) => [
      r.name,
      String(r.spec.count),
      String(r.workers),
      r.runs > 1 ? `best of ${r.runs}` : '1',
      r.parallel.mode === 'threads' ? String(r.parallel.batchSize) : '1',
      formatDuration(r.sequential.durationMs),
      formatDuration(r.parallel.durationMs),
      `${r.speedup.toFixed(2)}×`,
      `${(r.efficiency * 100).toFixed(1)}%`,
      formatRate(r.sequential.throughput, 'items'),
      formatRate(r.parallel.throughput, 'items'),
      `${r.sequential.failed}/${r.parallel.failed}`,
      r.match ? 'yes' : 'NO',
      targetText(r.target),
      r.pass ? 'pass' : 'MISS',
    ]),
  );
}
