/// <reference lib="dom" />
/**
 * The overview: workers (state, heartbeat, slots, attempts, rates, CPU, RSS)
 * and jobs (status, duration, progress).
 *
 * @module
 */
import { formatBytes, formatDuration, formatRate } from '../../units.ts';
import { jobDurationMs, workerRows } from '../views.ts';
import { type PageContext, phasesOf, routes } from './context.ts';
import { h } from './dom.ts';
import { badge, clock, progressBar, section, table } from './widgets.ts';

export function overviewPage(ctx: PageContext): HTMLElement {
  const { state } = ctx;
  const workers = workerRows(state).map((w) => [
    h('a', { href: routes.worker(w.workerId) }, w.workerId),
    badge(w.state),
    formatDuration(w.heartbeatAgeMs),
    `${w.running.length} / ${w.slots}`,
    `${w.attempts} / ${w.failed}`,
    formatRate(w.recordsPerSec, 'rec'),
    formatRate(w.bytesPerSec, 'B'),
    w.cpuPercent === undefined ? '—' : `${Math.round(w.cpuPercent)}%`,
    w.rssBytes === undefined ? '—' : formatBytes(w.rssBytes),
  ]);
  const pending = [...state.pending]
    .reverse()
    .map((job) => [
      job.name,
      h('code', null, job.jobId),
      badge(job.state),
      clock(job.submittedAt),
      job.error ?? '',
      '',
      '',
    ]);
  const jobs = [...state.jobs].reverse().map((job) => {
    const phases = phasesOf(ctx, job);
    return [
      h('a', { href: routes.job(job.start.jobId) }, job.start.name),
      h('code', null, job.start.jobId),
      badge(job.status),
      clock(job.start.startedAt),
      formatDuration(jobDurationMs(job, state.now)),
      progressBar(phases.map.fraction),
      progressBar(phases.reduce.fraction),
    ];
  });
  return h(
    'div',
    { class: 'page overview' },
    section(
      'Workers',
      table(
        [
          'Worker',
          'State',
          'Last heartbeat',
          'Slots busy / total',
          'Attempts run / failed',
          'Records/s',
          'Input/s',
          'CPU',
          'RSS',
        ],
        workers,
        {
          numeric: [false, false, true, true, true, true, true, true, true],
          empty: state.source === 'report' ? 'A report has no live workers: see the job.' : 'No worker yet.',
          class: 'workers',
        },
      ),
      state.source === 'local' && state.workers.some((w) => w.cluster === undefined)
        ? h(
            'p',
            { class: 'muted' },
            'Local mode: one worker, this process; its slots are threads; CPU and RSS are the process’s.',
          )
        : null,
    ),
    section(
      'Jobs',
      table(['Job', 'Id', 'Status', 'Started', 'Duration', 'Map', 'Reduce'], [...pending, ...jobs], {
        numeric: [false, false, false, true, true, false, false],
        empty: 'No job yet.',
        class: 'jobs',
      }),
    ),
  );
}
