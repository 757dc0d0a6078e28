/// <reference lib="dom" />
/**
 * A job: progress per phase, input rate, the timeline of every attempt (with
 * the details of the one clicked), failures with their messages and stacks,
 * counters, validation, workers and settings.
 *
 * @module
 */
import type { TaskPhase } from '../views.ts';
import { workerReports } from '../../../engine/worker-report.ts';
import { formatBytes, formatCount, formatDuration, formatEta, formatRate } from '../../units.ts';
import type { PhaseView } from '../../phase-view.ts';
import type { AttemptView, JobView } from '../model.ts';
import { attemptsOf, failedAttemptsOf, jobDurationMs } from '../views.ts';
import { type PageContext, phasesOf, routes } from './context.ts';
import { type Child, h } from './dom.ts';
import { ThroughputChart } from './throughput-chart.ts';
import { timeline } from './timeline.ts';
import { badge, clock, errorBlock, keyValues, progressBar, section, table } from './widgets.ts';

/** The chart of the job shown last, kept across renders (see {@link ThroughputChart}). */
let chart: ThroughputChart | undefined;

/** Renders the page; `mounted` callbacks run once it is in the document. */
export function jobPage(
  ctx: PageContext,
  jobId: string,
  attemptId: string | undefined,
  mounted: Array<() => void>,
): HTMLElement {
  const job = ctx.state.jobs.find((j) => j.start.jobId === jobId);
  if (job === undefined) {
    return h(
      'div',
      { class: 'page' },
      h(
        'p',
        null,
        'No job ',
        h('code', null, jobId),
        ' here. ',
        h('a', { href: routes.overview() }, 'Back to the overview.'),
      ),
    );
  }
  const now = ctx.state.now;
  if (chart?.jobId !== jobId) chart = new ThroughputChart(jobId);
  const shown = chart;
  mounted.push(() => shown.update(job, Math.max(300, ctx.width - 16)));
  const selected = attemptId === undefined ? undefined : job.attempts[attemptId];
  const report = job.report;
  return h(
    'div',
    { class: 'page job' },
    h(
      'header',
      { class: 'page-head' },
      h('h1', null, job.start.name, ' ', badge(job.status)),
      h(
        'p',
        { class: 'muted' },
        h('code', null, job.start.jobId),
        ` · started ${clock(job.start.startedAt)} · ${job.status === 'running' ? 'running for' : 'took'} ${formatDuration(jobDurationMs(job, now))} · `,
        job.start.workers.map((w) => `${w.id}: ${w.slots} slots`).join(', '),
      ),
    ),
    section('Progress', phasesTable(job, phasesOf(ctx, job))),
    section('Input rate', shown.el),
    section(
      'Timeline',
      timeline({
        job,
        now,
        width: ctx.width,
        selected: attemptId,
        onSelect: (id) => (location.hash = routes.attempt(jobId, id)),
      }),
      selected
        ? attemptDetails(job, selected, now)
        : h('p', { class: 'muted' }, 'Click an attempt for its details.'),
    ),
    section('Failures', failures(job)),
    section(
      'Counters',
      report
        ? table(
            ['Counter', 'Value'],
            Object.keys(report.counters)
              .sort()
              .map((name) => [name, formatCount(report.counters[name]!)]),
            { numeric: [false, true], empty: 'No counters.', class: 'counters' },
          )
        : h('p', { class: 'muted' }, 'Counters are summed over committed attempts when the job ends.'),
    ),
    section(
      'Validation',
      report ? validation(job) : h('p', { class: 'muted' }, 'Checked when the job ends.'),
    ),
    section('Workers', workersTable(job, now)),
    section('Settings', settings(job)),
  );
}

const PHASES: readonly TaskPhase[] = ['map', 'reduce'];

function phasesTable(job: JobView, views: Record<TaskPhase, PhaseView>): HTMLElement {
  return table(
    [
      'Phase',
      'Progress (bytes)',
      'Tasks done / running / failed attempts / total',
      'Records/s',
      'Input/s',
      'ETA / time',
    ],
    PHASES.map((phase) => {
      const v = views[phase];
      const time =
        v.state === 'done'
          ? `done in ${formatDuration(v.elapsedMs)}`
          : v.state === 'pending'
            ? 'waiting'
            : `ETA ${formatEta(v.etaMs)}`;
      return [
        h('span', { class: `phase phase-${phase}` }, phase),
        progressBar(v.fraction),
        `${v.tasksDone} / ${v.tasksRunning} / ${failedAttemptsOf(job, phase)} / ${v.tasksTotal}`,
        formatRate(v.recordsPerSec, 'rec'),
        formatRate(v.bytesPerSec, 'B'),
        time,
      ];
    }),
    { numeric: [false, false, true, true, true, true], class: 'phases' },
  );
}

function attemptDetails(job: JobView, a: AttemptView, now: number): HTMLElement {
  const id = `${a.taskId}_${a.attempt}`;
  return h(
    'div',
    { class: 'attempt-details', id: 'attempt-details', data: { attempt: id } },
    h('h3', null, `Attempt ${id} `, badge(a.status)),
    keyValues([
      ['task', a.taskId],
      ['attempt', String(a.attempt)],
      ['worker', h('a', { href: routes.worker(a.worker) }, a.worker)],
      ['state', a.state],
      ['speculative', a.speculative ? 'yes (a backup of a straggler)' : undefined],
      ['started', clock(a.startedAt)],
      [
        'duration',
        formatDuration((a.finishedAt ?? now) - a.startedAt) +
          (a.finishedAt === undefined ? ' (running)' : ''),
      ],
      ['read', `${formatCount(a.inputRecords ?? 0)} records, ${formatBytes(a.inputBytes ?? 0)}`],
      [
        'wrote',
        a.outputBytes === undefined
          ? undefined
          : `${formatCount(a.outputRecords ?? 0)} records, ${formatBytes(a.outputBytes)}`,
      ],
      ['reason', a.reason],
    ]),
    a.error ? errorBlock(a.error, `details/${id}`) : null,
    h('p', null, h('a', { href: routes.job(job.start.jobId) }, 'Close')),
  );
}

/** Failed attempts listed with their errors; the rest are counted. */
const MAX_FAILURES = 50;

function failures(job: JobView): Child {
  const all = attemptsOf(job).filter((a) => a.status === 'failed');
  const failed = all.slice(0, MAX_FAILURES);
  const jobError = job.report?.error;
  if (failed.length === 0 && jobError === undefined) return h('p', { class: 'muted' }, 'No failures.');
  return [
    jobError
      ? h('div', { class: 'job-error' }, h('h3', null, 'The job failed'), errorBlock(jobError, 'job'))
      : null,
    failed.map((a) => {
      const id = `${a.taskId}_${a.attempt}`;
      return h(
        'div',
        { class: 'failure', data: { attempt: id } },
        h('h3', null, h('a', { href: routes.attempt(job.start.jobId, id) }, id), ` on ${a.worker}`),
        h(
          'p',
          { class: 'muted' },
          `started ${clock(a.startedAt)}, ran ${formatDuration((a.finishedAt ?? a.startedAt) - a.startedAt)}`,
        ),
        a.error ? errorBlock(a.error, `failure/${id}`) : null,
      );
    }),
    all.length > failed.length
      ? h('p', { class: 'muted' }, `… and ${all.length - failed.length} more failed attempts.`)
      : null,
  ];
}

function validation(job: JobView): HTMLElement {
  const v = job.report!.validation;
  const yes = (ok: boolean | undefined, text: string): Child =>
    ok === undefined ? null : h('li', { class: ok ? 'ok' : 'bad' }, `${ok ? '✓' : '✗'} ${text}`);
  return h(
    'ul',
    { class: 'validation' },
    job.status === 'succeeded' || !v.inputBytesMatch
      ? yes(v.inputBytesMatch, 'input bytes read equal the bytes planned')
      : null,
    job.report!.phases.reduce
      ? yes(v.shuffleRecordsMatch, 'map output records equal reduce input records')
      : null,
    h('li', null, `${formatCount(v.checksumsVerified)} segment checksums (CRC-32) verified`),
    yes(v.verifiedAgainstSequential, 'output identical to a sequential run (--verify)'),
  );
}

function workersTable(job: JobView, now: number): HTMLElement {
  const workers = job.report?.workers ?? workerReports(job.start.workers, attemptsOf(job), now);
  return table(
    ['Worker', 'Slots', 'Tasks', 'Attempts', 'Failed', 'Killed', 'Busy', 'Records', 'Input'],
    workers.map((w) => [
      h('a', { href: routes.worker(w.workerId) }, w.workerId),
      w.slots,
      formatCount(w.tasks),
      formatCount(w.attempts),
      formatCount(w.failedAttempts),
      formatCount(w.killedAttempts),
      formatDuration(w.busyMs),
      formatCount(w.records),
      formatBytes(w.bytes),
    ]),
    { numeric: [false, true, true, true, true, true, true, true, true], class: 'job-workers' },
  );
}

function settings(job: JobView): HTMLElement {
  const s = job.start.settings;
  return keyValues([
    ['inputs', s.inputs.join(', ')],
    ['output', s.output],
    ['workers', String(s.workers)],
    ['reducers', String(s.reducers)],
    ['split size', formatBytes(s.splitSize)],
    ['sort buffer', formatBytes(s.sortBufferBytes)],
    ['merge fan-in', String(s.mergeFanIn)],
    ['max attempts', String(s.maxAttempts)],
    ['task timeout', s.taskTimeoutMs === 0 ? 'none' : formatDuration(s.taskTimeoutMs)],
    [
      'simulate failures',
      s.simulateFailures === undefined ? undefined : `${s.simulateFailures} (seed ${s.seed})`,
    ],
    ['params', Object.keys(s.params).length === 0 ? undefined : h('code', null, JSON.stringify(s.params))],
  ]);
}
