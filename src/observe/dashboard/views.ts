/**
 * Rows derived from the dashboard state, for the pages and for the terminal
 * worker table (`tsmr run --monitor-workers`). Pure: no Node and no DOM.
 *
 * @module
 */
import type { PhaseName } from '../../engine/job-report.ts';
import type { PhaseView } from '../phase-view.ts';
import type { AttemptView, DashboardState, JobView, WorkerStatus } from './model.ts';

/** A worker with what its attempts add up to, over every job of the state. */
export interface WorkerRow extends WorkerStatus {
  /** Ms since its last heartbeat, by the state's clock. */
  heartbeatAgeMs: number;
  /** Attempt ids running on it now (each takes a slot). */
  running: string[];
  /** Attempts it ran or runs (a cluster worker: the coordinator's count, over every job it remembers or not). */
  attempts: number;
  /** Its attempts that did their work (succeeded, committed, or a duplicate of a committed one). */
  done: number;
  /** Its attempts that failed (a cluster worker: the coordinator's count). */
  failed: number;
}

const DONE: ReadonlySet<AttemptView['status']> = new Set(['succeeded', 'committed', 'duplicate']);

/** Attempts of a job, in start order. */
export function attemptsOf(job: JobView): AttemptView[] {
  return Object.values(job.attempts);
}

/** One row per worker of the state, in its order. */
export function workerRows(state: DashboardState): WorkerRow[] {
  const rows = new Map<string, WorkerRow>(
    state.workers.map((w) => [
      w.workerId,
      {
        ...w,
        heartbeatAgeMs: Math.max(0, state.now - w.lastHeartbeatAt),
        running: [],
        attempts: 0,
        done: 0,
        failed: 0,
      },
    ]),
  );
  for (const job of state.jobs) {
    for (const a of attemptsOf(job)) {
      const row = rows.get(a.worker);
      if (row === undefined) continue;
      row.attempts++;
      if (a.status === 'running') row.running.push(`${a.taskId}_${a.attempt}`);
      else if (DONE.has(a.status)) row.done++;
      else if (a.status === 'failed') row.failed++;
    }
  }
  for (const row of rows.values()) {
    if (row.cluster === undefined) continue;
    row.attempts = row.cluster.attemptsRun;
    row.failed = row.cluster.attemptsFailed;
  }
  return [...rows.values()];
}

/** Failed attempts of a job's phase. */
/**
 * The phases the dashboard draws: those with tasks of the job's own. A
 * total-order job's sampling phase shows in the terminal and the report.
 */
export type TaskPhase = Exclude<PhaseName, 'sample'>;

export function failedAttemptsOf(job: JobView, phase: TaskPhase): number {
  const prefix = phase === 'map' ? 'm-' : 'r-';
  return attemptsOf(job).filter((a) => a.status === 'failed' && a.taskId.startsWith(prefix)).length;
}

/** Wall time of a job: its report's, else from its start to the state's clock. */
export function jobDurationMs(job: JobView, now: number): number {
  return job.report?.durationMs ?? Math.max(0, now - job.start.startedAt);
}

/** Committed attempts of a job's phase (its tasks done). */
export function tasksDoneOf(job: JobView, phase: TaskPhase): number {
  const prefix = phase === 'map' ? 'm-' : 'r-';
  return attemptsOf(job).filter((a) => a.status === 'committed' && a.taskId.startsWith(prefix)).length;
}

/**
 * The view of a phase of a job known from its report only (a report page),
 * rates over the whole phase; `pending` if the phase never ran.
 */
export function reportPhaseView(job: JobView, phase: TaskPhase): PhaseView {
  const p = job.report?.phases[phase];
  const tasksTotal = job.start.tasks[phase];
  const tasksDone = tasksDoneOf(job, phase);
  if (p === undefined) {
    return {
      phase,
      state: 'pending',
      fraction: 0,
      tasksDone,
      tasksRunning: 0,
      tasksTotal,
      bytesTotal: 0,
      recordsPerSec: NaN,
      bytesPerSec: NaN,
      etaMs: NaN,
      elapsedMs: 0,
    };
  }
  const seconds = p.durationMs / 1000;
  return {
    phase,
    state: 'done',
    fraction: tasksTotal === 0 ? 1 : tasksDone / tasksTotal,
    tasksDone,
    tasksRunning: 0,
    tasksTotal,
    bytesTotal: p.inputBytes,
    recordsPerSec: seconds > 0 ? p.inputRecords / seconds : NaN,
    bytesPerSec: seconds > 0 ? p.inputBytes / seconds : NaN,
    etaMs: 0,
    elapsedMs: p.durationMs,
  };
}
