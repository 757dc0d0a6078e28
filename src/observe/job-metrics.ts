/**
 * A job report as Prometheus metrics, for `tsmr run --metrics-file`: point
 * node_exporter's textfile collector (or any scraper of `.prom` files) at it.
 */
import type { JobReport, PipelineReport } from '../engine/job-report.ts';
import { type Metric, renderPrometheus } from './metrics.ts';

/** Renders counters, phase durations and sizes of `report` in the Prometheus text format. */
export function renderJobMetrics(report: JobReport): string {
  return renderPrometheus(jobMetrics(report));
}

/**
 * The metrics of every step of a pipeline that ran, one family per metric
 * with each step's samples (told apart by their `job_id` and `job` labels).
 */
export function renderPipelineMetrics(report: PipelineReport): string {
  const families = new Map<string, Metric>();
  for (const step of report.steps) {
    for (const metric of jobMetrics(step.report)) {
      const family = families.get(metric.name);
      if (family === undefined) families.set(metric.name, { ...metric, samples: [...metric.samples] });
      else family.samples.push(...metric.samples);
    }
  }
  return renderPrometheus([...families.values()]);
}

function jobMetrics(report: JobReport): Metric[] {
  const job = { job_id: report.jobId, job: report.name };
  const counters: Metric = {
    name: 'tsmr_job_counters_total',
    help: 'Job counters (group/name), summed over committed attempts.',
    type: 'counter',
    samples: Object.entries(report.counters).map(([id, value]) => {
      const slash = id.indexOf('/');
      return { labels: { ...job, group: id.slice(0, slash), name: id.slice(slash + 1) }, value };
    }),
  };
  const phases: Metric = {
    name: 'tsmr_job_phase_duration_seconds',
    help: 'Wall time of each phase of the job.',
    type: 'gauge',
    samples: Object.entries(report.phases).map(([phase, p]) => ({
      labels: { ...job, phase },
      value: (p?.durationMs ?? 0) / 1000,
    })),
  };
  const gauges: Metric[] = [
    gauge('tsmr_job_duration_seconds', 'Wall time of the job.', report.durationMs / 1000),
    gauge('tsmr_job_succeeded', '1 when the job succeeded, else 0.', report.status === 'succeeded' ? 1 : 0),
    gauge('tsmr_job_output_bytes', 'Bytes of the committed output files.', report.outputBytes),
    gauge('tsmr_job_peak_rss_bytes', 'Peak resident set size of the process.', report.peakRssBytes),
    gauge(
      'tsmr_job_failed_attempts',
      'Attempts that failed (and were retried, or failed the job).',
      report.attempts.filter((a) => a.status === 'failed').length,
    ),
  ];
  return [counters, phases, ...gauges];

  function gauge(name: string, help: string, value: number): Metric {
    return { name, help, type: 'gauge', samples: [{ labels: job, value }] };
  }
}
