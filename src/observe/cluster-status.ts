/**
 * `tsmr status`: a cluster's jobs and workers as text, from a
 * {@link ClusterStatus} (`GetStatus`).
 *
 * ```text
 * coordinator http://127.0.0.1:7070: 3 workers (3 alive), jobs: 1 running, 1 queued
 *
 * job                         name       state    phase  progress  ETA  failed
 * job-20250101-120000-abcdef  wordcount  running  map         42%  12s       2
 * ```
 *
 * With `workers`, a row per worker: state, last heartbeat (ago), slots
 * busy/total, attempts run and failed, mean attempt time, map outputs held,
 * shuffle bytes served. With `job`, that job in full: each phase's progress
 * by bytes with its rate and ETA, its counters, its latest failed attempts
 * with their messages, and its error. Progress, rates and ETA are those of
 * `phase-view.ts`; pass one {@link PhaseTracker} per job across refreshes
 * (`--watch`) for rates over the last 10 s. Times come from `now`: no clock.
 *
 * @module
 */
import type { PhaseName, ProgressSnapshot } from '../engine/job-report.ts';
import type { ClusterStatus, JobStatus, WorkerStatus } from '../runtime/cluster/wire-status.ts';
import { alignColumns } from './columns.ts';
import { PhaseTracker } from './phase-view.ts';
import { percentText } from './progress.ts';
import type { PhaseView } from './phase-view.ts';
import { countersTable, firstLine } from './report.ts';
import { formatBytes, formatCount, formatDuration, formatEta, formatRate } from './units.ts';

export interface StatusTextOptions {
  url: string;
  /** Epoch ms, for "last heartbeat … ago". */
  now: number;
  /** The worker table. */
  workers?: boolean;
  /** Show this job in full. */
  job?: string;
  /** Rate windows by job id, kept across refreshes. */
  trackers?: Map<string, PhaseTracker>;
}

/** Failed attempts listed for one job, latest last. */
const LISTED_FAILURES = 10;

export function formatClusterStatus(status: ClusterStatus, opts: StatusTextOptions): string[] {
  const trackers = opts.trackers ?? new Map<string, PhaseTracker>();
  const tracker = (jobId: string): PhaseTracker => {
    let t = trackers.get(jobId);
    if (t === undefined) trackers.set(jobId, (t = new PhaseTracker()));
    return t;
  };
  const lines = [summary(status, opts.url)];
  const detailed = opts.job === undefined ? undefined : status.jobs.find((j) => j.jobId === opts.job);
  if (detailed !== undefined) lines.push('', ...jobDetail(detailed, tracker(detailed.jobId)));
  else if (status.jobs.length > 0) lines.push('', ...jobTable(status.jobs, tracker));
  if (opts.workers && status.workers.length > 0) lines.push('', ...workerTable(status.workers, opts.now));
  return lines;
}

function summary(status: ClusterStatus, url: string): string {
  const count = (items: readonly { state: string }[]): string => {
    const by = new Map<string, number>();
    for (const i of items) by.set(i.state, (by.get(i.state) ?? 0) + 1);
    return [...by].map(([state, n]) => `${n} ${state}`).join(', ');
  };
  const w = status.workers.length;
  const workers = `${w} worker${w === 1 ? '' : 's'}${w > 0 ? ` (${count(status.workers)})` : ''}`;
  const jobs = status.jobs.length === 0 ? 'no jobs' : `jobs: ${count(status.jobs)}`;
  return `coordinator ${url}: ${workers}, ${jobs}`;
}

/** The phase a job is in: the first one not done (sample, map, reduce), or `done`. */
function currentPhase(p: ProgressSnapshot): PhaseName | undefined {
  return (['sample', 'map', 'reduce'] as const).find((name) => {
    const phase = p.phases[name];
    return phase !== undefined && phase.finishedAt === undefined;
  });
}

function jobTable(jobs: readonly JobStatus[], tracker: (jobId: string) => PhaseTracker): string[] {
  const header = ['job', 'name', 'state', 'phase', 'progress', 'ETA', 'failed'];
  const rows = jobs.map((j) => {
    const phase = j.progress && currentPhase(j.progress);
    const view = j.progress && phase && tracker(j.jobId).view(j.progress, phase);
    return [
      j.jobId,
      j.name,
      j.state,
      phase ?? (j.progress ? 'done' : '-'),
      view ? percentText(view.fraction) : '-',
      view && view.state === 'running' ? formatEta(view.etaMs) : '-',
      String(j.progress?.failedAttempts ?? 0),
    ];
  });
  return alignColumns([header, ...rows], [false, false, false, false, true, true, true]);
}

function jobDetail(j: JobStatus, tracker: PhaseTracker): string[] {
  const p = j.progress;
  const phase = p && currentPhase(p);
  const lines = [
    `${j.jobId} ${j.name}: ${j.state}${phase && j.state === 'running' ? `, ${phase} phase` : ''}`,
  ];
  if (p !== undefined) {
    const names = (['sample', 'map', 'reduce'] as const).filter((n) => p.phases[n] !== undefined);
    const rows = names.map((n) => phaseRow(tracker.view(p, n)));
    lines.push(...alignColumns(rows, [false, true, true, true, true, false]).map((l) => `  ${l}`));
    if (p.failedAttempts > 0)
      lines.push(`  ${p.failedAttempts} failed attempt${p.failedAttempts === 1 ? '' : 's'}`);
  }
  const counters = countersTable(j.counters);
  if (counters.length > 0) lines.push('  counters', ...counters.map((l) => `    ${l}`));
  if (j.failures.length > 0) {
    const shown = j.failures.slice(-LISTED_FAILURES);
    const more = j.failures.length - shown.length;
    lines.push(`  failures${more > 0 ? ` (latest ${shown.length} of ${j.failures.length})` : ''}`);
    for (const f of shown) {
      const where = f.worker === '' ? '' : ` on ${f.worker}`;
      lines.push(
        `    ${f.attemptId}${where}: ${f.error.code ?? f.error.name}: ${firstLine(f.error.message)}`,
      );
    }
  }
  if (j.error !== undefined)
    lines.push(`  error ${j.error.code ?? j.error.name}: ${firstLine(j.error.message)}`);
  return lines;
}

function phaseRow(v: PhaseView): string[] {
  const tail =
    v.state === 'pending'
      ? 'waiting'
      : v.state === 'done'
        ? `done in ${formatEta(v.elapsedMs)}`
        : `ETA ${formatEta(v.etaMs)}`;
  return [
    v.phase,
    percentText(v.fraction),
    `${v.tasksDone}/${v.tasksTotal} tasks`,
    formatBytes(v.bytesTotal),
    formatRate(v.bytesPerSec, 'B'),
    tail,
  ];
}

function workerTable(workers: readonly WorkerStatus[], now: number): string[] {
  const header = [
    'worker',
    'state',
    'heartbeat',
    'slots',
    'attempts',
    'failed',
    'avg attempt',
    'map outputs',
    'served',
  ];
  const rows = workers.map((w) => [
    w.workerId,
    w.state,
    `${formatDuration(Math.max(0, now - w.lastHeartbeatAt))} ago`,
    `${w.slotsBusy}/${w.slotsTotal}`,
    formatCount(w.attemptsRun),
    formatCount(w.attemptsFailed),
    w.averageAttemptMs === undefined ? '-' : formatDuration(w.averageAttemptMs),
    formatCount(w.mapOutputsHeld),
    formatBytes(w.shuffleBytesServed),
  ]);
  return alignColumns([header, ...rows], [false, false, true, true, true, true, true, true, true]);
}
