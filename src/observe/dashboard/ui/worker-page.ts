/// <reference lib="dom" />
/**
 * A worker: its state and resources, its attempts (every job), its map
 * outputs and the bytes served from them, its recent failures.
 *
 * @module
 */
import { formatBytes, formatCount, formatDuration, formatRate } from '../../units.ts';
import type { AttemptView, JobView } from '../model.ts';
import { attemptsOf, workerRows } from '../views.ts';
import { type PageContext, routes } from './context.ts';
import { h } from './dom.ts';
import { badge, clock, errorBlock, keyValues, section, table } from './widgets.ts';

/** Attempts listed, newest first. */
const MAX_ATTEMPTS = 200;
/** Failures listed, newest first. */
const MAX_FAILURES = 20;

export function workerPage(ctx: PageContext, workerId: string): HTMLElement {
  const { state } = ctx;
  const row = workerRows(state).find((w) => w.workerId === workerId);
  const attempts: Array<{ job: JobView; a: AttemptView }> = state.jobs
    .flatMap((job) => attemptsOf(job).map((a) => ({ job, a })))
    .filter(({ a }) => a.worker === workerId)
    .sort((x, y) => y.a.startedAt - x.a.startedAt);
  const link = (job: JobView, a: AttemptView) =>
    h('a', { href: routes.attempt(job.start.jobId, `${a.taskId}_${a.attempt}`) }, `${a.taskId}_${a.attempt}`);
  const outputs = attempts.filter(({ a }) => a.taskId.startsWith('m-') && a.status === 'committed');
  const failed = attempts.filter(({ a }) => a.status === 'failed').slice(0, MAX_FAILURES);
  return h(
    'div',
    { class: 'page worker' },
    h(
      'header',
      { class: 'page-head' },
      h('h1', null, `Worker ${workerId} `, row ? badge(row.state) : badge('gone')),
    ),
    row
      ? keyValues([
          ['host', row.cluster ? `${row.cluster.hostName} (pid ${row.cluster.pid})` : undefined],
          ['incarnation', row.cluster ? String(row.cluster.incarnation) : undefined],
          ['registered', row.cluster ? clock(row.cluster.registeredAt) : undefined],
          ['last heartbeat', `${formatDuration(row.heartbeatAgeMs)} ago`],
          ['slots busy / total', `${row.running.length} / ${row.slots}`],
          ['running', row.running.length === 0 ? 'nothing' : row.running.join(', ')],
          ['attempts done / failed / all', `${row.done} / ${row.failed} / ${row.attempts}`],
          ['input now', `${formatRate(row.recordsPerSec, 'rec')}, ${formatRate(row.bytesPerSec, 'B')}`],
          ['CPU', row.cpuPercent === undefined ? undefined : `${Math.round(row.cpuPercent)}% (of one core)`],
          ['RSS', row.rssBytes === undefined ? undefined : formatBytes(row.rssBytes)],
          ['map outputs held', row.cluster ? formatCount(row.cluster.mapOutputsHeld) : undefined],
          ['map output bytes served', formatBytes(row.shuffleBytesServed)],
        ])
      : h('p', { class: 'muted' }, 'Not a live worker: what it ran is below.'),
    section(
      'Attempts',
      table(
        ['Job', 'Attempt', 'Status', 'Started', 'Duration', 'Records read', 'Bytes read'],
        attempts
          .slice(0, MAX_ATTEMPTS)
          .map(({ job, a }) => [
            h('a', { href: routes.job(job.start.jobId) }, job.start.name),
            link(job, a),
            badge(a.status),
            clock(a.startedAt),
            formatDuration((a.finishedAt ?? state.now) - a.startedAt),
            formatCount(a.inputRecords ?? 0),
            formatBytes(a.inputBytes ?? 0),
          ]),
        {
          numeric: [false, false, false, true, true, true, true],
          empty: 'No attempts.',
          class: 'worker-attempts',
        },
      ),
      attempts.length > MAX_ATTEMPTS
        ? h('p', { class: 'muted' }, `… and ${attempts.length - MAX_ATTEMPTS} older ones.`)
        : null,
    ),
    section(
      'Map outputs',
      table(
        ['Job', 'Map attempt', 'Records', 'Bytes'],
        outputs.map(({ job, a }) => [
          h('a', { href: routes.job(job.start.jobId) }, job.start.name),
          link(job, a),
          formatCount(a.outputRecords ?? 0),
          formatBytes(a.outputBytes ?? 0),
        ]),
        { numeric: [false, false, true, true], empty: 'No committed map output.', class: 'map-outputs' },
      ),
      h(
        'p',
        { class: 'muted' },
        `${formatBytes(outputs.reduce((n, { a }) => n + (a.outputBytes ?? 0), 0))} in ${outputs.length} map outputs` +
          (row ? `; ${formatBytes(row.shuffleBytesServed)} read by reduce attempts.` : '.'),
      ),
    ),
    section(
      'Recent failures',
      failed.length === 0
        ? h('p', { class: 'muted' }, 'No failures.')
        : failed.map(({ job, a }) =>
            h(
              'div',
              { class: 'failure' },
              h('h3', null, link(job, a), ` ${clock(a.startedAt)}`),
              a.error ? errorBlock(a.error, `worker/${a.taskId}_${a.attempt}`) : null,
            ),
          ),
    ),
  );
}
