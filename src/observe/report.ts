/**
 * The human job report printed at the end of `tsmr run` (the JSON form is the
 * {@link JobReport} itself, written to `_job.json` and by `--json`).
 *
 * It is short (about 15–30 lines) and aligned, in human units: what ran, how
 * fast, what came out, what failed or was retried, what was validated, and on
 * failure the error with where it happened. It prints no stack trace: the CLI's
 * error printer does that for the thrown error.
 *
 * The unit helpers are re-exported from here for other modules.
 *
 * @module
 */
import type {
  AttemptRecord,
  JobReport,
  PhaseReport,
  PipelineReport,
  SkippedInputsReport,
} from '../engine/job-report.ts';
import type { WorkerReport } from '../engine/worker-report.ts';
import type { SerializedError } from '../errors.ts';
import { alignColumns } from './columns.ts';
import { formatBytes, formatCount, formatDuration, formatRate } from './units.ts';

export { formatBytes, formatCount, formatDuration, formatEta, formatRate } from './units.ts';

/** At most this many counters are listed; the rest are in `_job.json`. */
export const MAX_REPORT_COUNTERS = 12;

/** At most this many workers are listed; the rest are in `_job.json`. */
export const MAX_REPORT_WORKERS = 8;

/** Width of the label column. */
const LABEL_WIDTH = 12;

/** Longest error or cause message shown (first line only). */
const MAX_MESSAGE = 200;

/** Skipped input entries named in the one-line warning; the rest are counted. */
const SKIPPED_NAMED = 3;

/**
 * The one-line warning about skipped input entries, as `tsmr run` prints it at
 * the start and the report at the end, e.g. `skipped 2 input entries that hold
 * nothing to read: /in/pipe (fifo), /in/old (dangling symlink)`.
 */
export function formatSkippedInputs(skipped: SkippedInputsReport): string {
  const named = skipped.listed.slice(0, SKIPPED_NAMED).map((s) => `${s.path} (${s.reason})`);
  const more = skipped.count - named.length;
  if (more > 0) named.push(`… ${formatCount(more)} more in _job.json`);
  const entries = skipped.count === 1 ? 'entry that holds' : 'entries that hold';
  return `skipped ${formatCount(skipped.count)} input ${entries} nothing to read: ${named.join(', ')}`;
}

/**
 * Formats a report for a person. Lines end with `\n`, the last one too.
 *
 * Example (succeeded):
 * ```text
 * tsmr: job wordcount succeeded in 12.4 s
 *   job id      j-1f3a  (8 workers, 8 reducers, 64 MiB splits)
 *   map         24 tasks  10.2 s     1 GiB  12,345,678 records   105 MB/s
 *   reduce       8 tasks   2.1 s  80.3 MiB   1,234,567 records  40.1 MB/s
 *   records     12,345,678 in, 45,678 out
 *   output      8 files, 1.2 MiB in out/wordcount
 *   attempts    4: 1 failed, 1 killed, 2 retried, 1 duplicate completion
 *   workers     local  8 slots  32 tasks  34 attempts  1 failed  busy 1 min 31 s (92%)  12,345,678 records  1.1 GiB
 *   validation  input bytes match, shuffle records match, 192 checksums verified
 *   warning     skipped 1 input entry that holds nothing to read: /data/in/pipe (fifo)
 *   skipped     2 bad records (of at most 10), in out/wordcount/_skipped/ with their errors
 *   peak RSS    412 MiB
 *   counters    tsmr/spills                    48
 *               wordcount/words        12,345,678
 * ```
 *
 * On failure it ends with the error and where it happened (details are taken
 * from the first error along the cause chain that has them; up to 3 causes,
 * first line of each message):
 * ```text
 *   error       TSMR_TASK_FAILED: task m-00003 failed 4 times; fix the map function
 *   task        m-00003, attempt 3
 *   input       /data/in.txt at byte 123,456
 *   cause       TSMR_USER_CODE: map threw
 *   cause       TypeError: Cannot read properties of undefined (reading 'x')
 * ```
 *
 * `workers` has a line per worker (at most {@link MAX_REPORT_WORKERS}): its
 * slots, the tasks it committed, its attempts and failed attempts, the time
 * its attempts ran (and that as a share of its slots × the job's duration),
 * and the input its attempts read.
 *
 * `attempts` counts every attempt: `retried` are attempts numbered 1 and up
 * (retries, re-executions, speculative backups), `duplicate completions` are
 * outcomes ignored because the task was already committed.
 */
export function formatReport(report: JobReport): string {
  const lines: string[] = [];
  const row = (label: string, value: string) =>
    lines.push(`  ${label.padEnd(LABEL_WIDTH)}${value}`.trimEnd());

  const status = report.status === 'failed' ? 'FAILED after' : `${report.status} in`;
  lines.push(`tsmr: job ${report.name} ${status} ${formatDuration(report.durationMs)}`);
  const s = report.settings;
  row(
    'job id',
    `${report.jobId}  (${plural(s.workers, 'worker')}, ${plural(s.reducers, 'reducer')}, ${formatBytes(s.splitSize)} splits)`,
  );

  const phaseNames = report.phases.sample
    ? (['sample', 'map', 'reduce'] as const)
    : (['map', 'reduce'] as const);
  const phaseRows = phaseNames.map((name) => phaseCells(report.phases[name]));
  const aligned = alignColumns(
    phaseRows.filter((r): r is string[] => r !== undefined),
    [true, true, true, true, true],
  );
  for (const [i, name] of phaseNames.entries()) row(name, phaseRows[i] ? aligned.shift()! : 'not run');
  const order = report.totalOrder;
  if (order) {
    row(
      'total order',
      `${plural(order.splitPoints, 'split point')} from ${plural(order.sampledKeys, 'sampled key')} ` +
        `(${order.sampler} sampler, ${plural(order.splitsSampled, 'split')} read)`,
    );
  }

  const recordsIn = report.phases.map?.inputRecords;
  row(
    'records',
    `${recordsIn === undefined ? '--' : formatCount(recordsIn)} in, ${formatCount(report.outputRecords)} out`,
  );
  const where = report.settings.output === undefined ? '' : ` in ${report.settings.output}`;
  row('output', `${plural(report.outputFiles.length, 'file')}, ${formatBytes(report.outputBytes)}${where}`);
  row('attempts', attemptsSummary(report.attempts, report.duplicateCompletions));
  workersTable(report.workers, report.durationMs).forEach((line, i) => row(i === 0 ? 'workers' : '', line));
  row('validation', validationSummary(report));
  if (report.inputsSkipped !== undefined) row('warning', formatSkippedInputs(report.inputsSkipped));
  if (report.skippedRecords !== undefined) row('skipped', formatSkippedRecords(report));
  row('peak RSS', formatBytes(report.peakRssBytes));

  const counterLines = countersTable(report.counters);
  counterLines.forEach((line, i) => row(i === 0 ? 'counters' : '', line));

  if (report.error) for (const [label, value] of errorRows(report.error)) row(label, value);
  return `${lines.join('\n')}\n`;
}

/**
 * Formats a pipeline's report for a person: a summary, then one section per
 * step that ran, each the step's job report ({@link formatReport}) headed
 * `step i/n:` instead of `tsmr:`. Lines end with `\n`.
 *
 * ```text
 * tsmr: pipeline genre-top-words succeeded in 14.2 s
 *   pipeline id pipeline-20261201-151300-ab12cd
 *   steps       2: count, top
 *   output      2 files, 31.9 KiB in out/genre-top-words
 *   step output removed (--keep-intermediate keeps it under out/genre-top-words/_steps/)
 *
 * step 1/2: job count succeeded in 11.0 s
 *   job id      job-20261201-151300-3f2a1b  (2 workers, 2 reducers, 5 MiB splits)
 *   …
 * step 2/2: job top succeeded in 3.0 s
 *   …
 * ```
 *
 * A pipeline that failed names its failed step and ends with that step's
 * section, which has the error.
 */
export function formatPipelineReport(report: PipelineReport): string {
  const lines: string[] = [];
  const row = (label: string, value: string) =>
    lines.push(`  ${label.padEnd(LABEL_WIDTH)}${value}`.trimEnd());
  const status = report.status === 'failed' ? 'FAILED after' : `${report.status} in`;
  lines.push(`tsmr: pipeline ${report.name} ${status} ${formatDuration(report.durationMs)}`);
  const names = report.stepNames;
  row('pipeline id', report.pipelineId);
  row('steps', `${formatCount(names.length)}: ${names.join(', ')}`);
  const failed = report.status === 'succeeded' ? undefined : report.steps.at(-1);
  if (failed !== undefined) row('failed at', `step ${failed.step}/${names.length} (${failed.name})`);
  else if (report.status !== 'succeeded') row('failed at', 'before its first step ran');
  if (report.status === 'succeeded') {
    const where = report.output === undefined ? '' : ` in ${report.output}`;
    row('output', `${plural(report.outputFiles.length, 'file')}, ${formatBytes(report.outputBytes)}${where}`);
    row(
      'step output',
      report.keepIntermediate
        ? `kept in ${report.output}/_steps/`
        : report.output === undefined
          ? 'removed'
          : `removed (--keep-intermediate keeps it under ${report.output}/_steps/)`,
    );
  }
  if (failed === undefined && report.error)
    for (const [label, value] of errorRows(report.error)) row(label, value);
  lines.push('');
  for (const step of report.steps) {
    lines.push(
      formatReport(step.report)
        .replace(/^tsmr: /, `step ${step.step}/${names.length}: `)
        .trimEnd(),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `3 bad records (of at most 10), in out/_skipped/ with their errors`. */
function formatSkippedRecords(report: JobReport): string {
  const skipped = report.skippedRecords!;
  const where =
    report.settings.output !== undefined && report.status === 'succeeded'
      ? `, in ${report.settings.output}/_skipped/ with their errors`
      : '';
  return `${plural(skipped.count, 'bad record')} (of at most ${formatCount(skipped.max)})${where}`;
}

function plural(n: number, noun: string): string {
  return `${formatCount(n)} ${noun}${n === 1 ? '' : 's'}`;
}

/** Cells of a phase row: tasks, duration, input bytes, records, throughput. */
function phaseCells(p: PhaseReport | undefined): string[] | undefined {
  if (!p) return undefined;
  return [
    plural(p.tasks, 'task'),
    formatDuration(p.durationMs),
    formatBytes(p.inputBytes),
    `${formatCount(p.inputRecords)} records`,
    formatRate(p.throughputMBps * 1e6, 'B'),
  ];
}

function attemptsSummary(attempts: readonly AttemptRecord[], duplicates: number): string {
  const count = (pred: (a: AttemptRecord) => boolean) => attempts.filter(pred).length;
  const parts = [
    `${count((a) => a.status === 'failed')} failed`,
    `${count((a) => a.attempt > 0)} retried`,
    `${duplicates} duplicate completion${duplicates === 1 ? '' : 's'}`,
  ];
  const killed = count((a) => a.status === 'killed');
  if (killed > 0) parts.splice(1, 0, `${killed} killed`);
  return `${attempts.length}: ${parts.join(', ')}`;
}

function validationSummary(report: JobReport): string {
  const v = report.validation;
  const parts = [
    !report.phases.reduce
      ? 'shuffle not checked (reduce did not run)'
      : v.shuffleRecordsMatch
        ? 'shuffle records match'
        : 'SHUFFLE RECORD COUNTS DIFFER',
    `${formatCount(v.checksumsVerified)} checksums verified`,
  ];
  // Checked when the job's tasks all succeeded.
  if (!v.inputBytesMatch) parts.unshift('INPUT BYTES DIFFER from the splits planned');
  else if (report.status === 'succeeded') parts.unshift('input bytes match');
  if (v.verifiedAgainstSequential === true) parts.push('output identical to a sequential run');
  if (v.verifiedAgainstSequential === false) parts.push('OUTPUT DIFFERS from a sequential run');
  return parts.join(', ');
}

/** One aligned line per worker (see {@link formatReport}). */
function workersTable(workers: readonly WorkerReport[], durationMs: number): string[] {
  const shown = workers.slice(0, MAX_REPORT_WORKERS);
  const lines = alignColumns(
    shown.map((w) => {
      const capacity = w.slots * durationMs;
      const share = capacity > 0 ? ` (${Math.round((100 * w.busyMs) / capacity)}%)` : '';
      return [
        w.workerId,
        plural(w.slots, 'slot'),
        plural(w.tasks, 'task'),
        plural(w.attempts, 'attempt'),
        `${formatCount(w.failedAttempts)} failed`,
        `busy ${formatDuration(w.busyMs)}${share}`,
        `${formatCount(w.records)} records`,
        formatBytes(w.bytes),
      ];
    }),
    [false, true, true, true, true, false, true, true],
  );
  if (workers.length > shown.length) lines.push(`… ${workers.length - shown.length} more in _job.json`);
  return lines;
}

/** `group/name value` lines, sorted (so groups stay together), names and values aligned; at most {@link MAX_REPORT_COUNTERS}. */
export function countersTable(counters: Record<string, number>): string[] {
  const names = Object.keys(counters).sort();
  const shown = names.slice(0, MAX_REPORT_COUNTERS);
  const lines = alignColumns(
    shown.map((name) => [name, formatCount(counters[name]!)]),
    [false, true],
  );
  if (names.length > shown.length) lines.push(`… ${names.length - shown.length} more in _job.json`);
  return lines;
}

/** The first line of a message, cut to at most MAX_MESSAGE (200) characters. */
export function firstLine(message: string): string {
  const line = message.split('\n', 1)[0]!;
  return line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE - 1)}…` : line;
}

/** The error, where it happened (first details found along the cause chain), and up to 3 causes. */
function errorRows(error: SerializedError): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  rows.push(['error', `${error.code ?? error.name}: ${firstLine(error.message)}`]);

  const chain: SerializedError[] = [];
  for (let e: SerializedError | undefined = error; e && chain.length < 9; e = e.cause) chain.push(e);
  const find = <T>(pick: (e: SerializedError) => T | undefined): T | undefined => {
    for (const e of chain) {
      const v = pick(e);
      if (v !== undefined) return v;
    }
    return undefined;
  };
  const taskId = find((e) => e.details?.taskId);
  const attempt = find((e) => e.details?.attempt);
  const file = find((e) => e.details?.file);
  const offset = find((e) => e.details?.offset);
  if (taskId !== undefined)
    rows.push(['task', attempt === undefined ? taskId : `${taskId}, attempt ${attempt}`]);
  if (file !== undefined)
    rows.push(['input', offset === undefined ? file : `${file} at byte ${formatCount(offset)}`]);
  for (const cause of chain.slice(1, 4)) {
    rows.push(['cause', `${cause.code ?? cause.name}: ${firstLine(cause.message)}`]);
  }
  return rows;
}
