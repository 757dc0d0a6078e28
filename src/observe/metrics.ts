/**
 * Prometheus text exposition (format 0.0.4) of counters and gauges.
 *
 * The coordinator and workers already hold their numbers (scheduler state,
 * job counters, slots in use); a scrape renders a snapshot of them:
 *
 * ```ts
 * renderPrometheus([
 *   { name: 'tsmr_tasks_running', help: 'Task attempts running.', type: 'gauge',
 *     samples: [{ labels: { phase: 'map' }, value: 3 }, { labels: { phase: 'reduce' }, value: 0 }] },
 * ]);
 * // # HELP tsmr_tasks_running Task attempts running.
 * // # TYPE tsmr_tasks_running gauge
 * // tsmr_tasks_running{phase="map"} 3
 * // tsmr_tasks_running{phase="reduce"} 0
 * ```
 *
 * Serve it with {@link PROMETHEUS_CONTENT_TYPE}. Job counters (`group/name`)
 * are not valid metric names: expose them as one family with labels, e.g.
 * `tsmr_job_counters_total{group="wordcount",name="words"}`.
 *
 * Why not prom-client (it is pure JS and on the registry)? It is built around
 * long-lived instruments registered in a registry and incremented in place,
 * and its `Registry.metrics()` is async (collect callbacks may await). Our
 * numbers are snapshots owned by the scheduler, rendered on demand, so with
 * prom-client each scrape would build a fresh registry, re-create every metric
 * and `reset()`/`inc()` counters to absolute values, behind a Promise; and it
 * would add four packages (prom-client, tdigest, bintrees,
 * `@opentelemetry/api`) for what is here about fifty lines of a
 * well-specified text format. Histograms or summaries would change that
 * trade-off.
 *
 * Spec: https://prometheus.io/docs/instrumenting/exposition_formats/
 *
 * @module
 */
import { ErrorCode, TsmrError } from '../errors.ts';

/** `Content-Type` of a response carrying {@link renderPrometheus} output. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface MetricSample {
  /** Label name → value. Names match `[a-zA-Z_][a-zA-Z0-9_]*` and do not start with `__`; values are any string. */
  labels?: Record<string, string>;
  /** A float64; `NaN` and `±Infinity` are allowed (counters: finite and ≥ 0). */
  value: number;
}

export interface Metric {
  /** Matches `[a-zA-Z_:][a-zA-Z0-9_:]*`; by convention counters end in `_total`. */
  name: string;
  /** One line of help; `\` and newlines are escaped. */
  help: string;
  type: 'counter' | 'gauge';
  /** Each label set at most once. No samples: only the `HELP` and `TYPE` lines. */
  samples: MetricSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function invalid(message: string, details: Record<string, unknown>): TsmrError {
  return new TsmrError(ErrorCode.INTERNAL, `invalid Prometheus metric: ${message}`, { details });
}

/** `HELP` text: backslash and line feed escaped. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A label value: backslash, double quote and line feed escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A sample value as Prometheus (Go's `ParseFloat`) reads it: `NaN`, `+Inf`, `-Inf`, or a JS number. */
export function formatSampleValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/**
 * Renders metric families in the Prometheus text format: for each, `# HELP`,
 * `# TYPE` and one line per sample, in the order given. Ends with a newline
 * (an empty list renders as `''`).
 *
 * @throws TsmrError `TSMR_INTERNAL` on an invalid or repeated metric name, an
 *   invalid or reserved label name, a label set repeated within a family, or a
 *   counter value that is negative or not finite (these are bugs of the caller).
 */
export function renderPrometheus(metrics: readonly Metric[]): string {
  const out: string[] = [];
  const names = new Set<string>();
  for (const metric of metrics) {
    const { name, type } = metric;
    if (!METRIC_NAME.test(name)) throw invalid(`bad metric name ${JSON.stringify(name)}`, { name });
    if (names.has(name)) throw invalid(`metric ${name} given twice`, { name });
    if (type !== 'counter' && type !== 'gauge')
      throw invalid(`metric ${name} has type ${String(type)}`, { name });
    names.add(name);
    out.push(`# HELP ${name} ${escapeHelp(metric.help)}`, `# TYPE ${name} ${type}`);

    const labelSets = new Set<string>();
    for (const sample of metric.samples) {
      const pairs: string[] = [];
      for (const [label, value] of Object.entries(sample.labels ?? {})) {
        if (!LABEL_NAME.test(label) || label.startsWith('__')) {
          throw invalid(`metric ${name} has a bad label name ${JSON.stringify(label)}`, { name, label });
        }
        pairs.push(`${label}="${escapeLabelValue(String(value))}"`);
      }
      const labels = pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
      const key = [...pairs].sort().join(',');
      if (labelSets.has(key)) throw invalid(`metric ${name} has the label set {${key}} twice`, { name });
      labelSets.add(key);
      if (type === 'counter' && !(Number.isFinite(sample.value) && sample.value >= 0)) {
        throw invalid(`counter ${name}${labels} has value ${sample.value}`, { name });
      }
      out.push(`${name}${labels} ${formatSampleValue(sample.value)}`);
    }
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}
