/**
 * What the dashboard shows, as JSON: the state the server holds and sends a
 * page when it connects, the updates that follow it (server-sent events), and
 * {@link applyUpdate}, which the server and the page both use, so that they
 * hold the same state. Pure: no Node and no DOM.
 *
 * One model for every source: the local dashboard (`tsmr run --dashboard`:
 * one worker, `local`, whose slots are the threads), a report page (`tsmr
 * report --html`: one finished job from its `_job.json`), and the coordinator
 * later (many workers, many jobs).
 *
 * Times are epoch ms, sizes bytes, rates per second.
 *
 * @module
 */
import type { AttemptRecord, JobReport, JobStart, ProgressSnapshot } from '../../engine/job-report.ts';
import type { AttemptState } from '../../engine/scheduler-types.ts';

/**
 * A worker's health, as Hadoop's JobTracker and Spark's executors page tell
 * it: `alive` (heartbeats on time), `suspect` (heartbeats late), `dead` (lost:
 * its attempts were re-run), `excluded` (alive, but given no more tasks after
 * too many failures; Hadoop's blacklisting).
 */
export type WorkerState = 'alive' | 'suspect' | 'dead' | 'excluded';

/** A worker as the dashboard shows it. Local mode: the process, with its threads as slots. */
export interface WorkerStatus {
  workerId: string;
  state: WorkerState;
  /** Task slots (threads). */
  slots: number;
  /** Its last heartbeat (local mode: the last sample of this process). */
  lastHeartbeatAt: number;
  /** CPU time of its process over the last sample interval, in percent of one core (as `top`: 200 = two cores); absent when unknown (a cluster worker's heartbeat does not carry it). */
  cpuPercent?: number;
  /** Resident set size of its process (all its threads); absent when unknown. */
  rssBytes?: number;
  /** Input records its attempts read per second, over the last few seconds. */
  recordsPerSec: number;
  /** Input bytes its attempts read per second, over the last few seconds. */
  bytesPerSec: number;
  /** Bytes of its map outputs that reduce attempts read (local mode: in place, from its files). */
  shuffleBytesServed: number;
  /** Cluster: what the coordinator's registry knows of it (absent in local mode). */
  cluster?: {
    incarnation: number;
    hostName: string;
    pid: number;
    registeredAt: number;
    /** Attempts it ran and that failed, over every job (the registry's counts: they outlive forgotten jobs). */
    attemptsRun: number;
    attemptsFailed: number;
    /** Committed map outputs it holds now (its last heartbeat). */
    mapOutputsHeld: number;
  };
}

/**
 * A cluster job that has no {@link JobView} (yet): queued, or ended before it
 * started (its job could not be imported, or it was cancelled in the queue).
 */
export interface PendingJob {
  jobId: string;
  name: string;
  submittedAt: number;
  /** `starting`: taken from the queue, not started yet (waiting for a worker, importing, planning). */
  state: 'queued' | 'starting' | 'failed' | 'cancelled';
  /** Why it ended, for an ended one. */
  error?: string;
}

/** One attempt: its report record, and what the scheduler adds (absent in hand-made reports). */
export type AttemptView = AttemptRecord & {
  /** A speculative backup of a straggler (Google MR §3.6). */
  speculative?: boolean;
  /** Why it was killed, lost or ignored as a duplicate. */
  reason?: string;
  /** The scheduler's state; `lost`: a committed map output that was lost, its task re-executed. */
  state?: AttemptState;
};

/** The input read so far by each phase of a job, for its throughput chart. */
export interface ProgressSample {
  t: number;
  mapBytes: number;
  mapRecords: number;
  reduceBytes: number;
  reduceRecords: number;
}

export type JobStatus = 'running' | JobReport['status'];

/** A job's report without its attempts (a {@link JobView} has them in `attempts`). */
export type JobSummary = Omit<JobReport, 'attempts'>;

export interface JobView {
  start: JobStart;
  status: JobStatus;
  /** The latest progress snapshot, once one came. */
  progress?: ProgressSnapshot;
  /** At most one sample per {@link SAMPLE_INTERVAL_MS}, thinned by half at {@link MAX_SAMPLES}. */
  series: ProgressSample[];
  /** By attempt id (`m-00003_1`), in start order. */
  attempts: Record<string, AttemptView>;
  /** Once the job has ended (absent if it ended without a report). */
  report?: JobSummary;
}

export interface DashboardState {
  /** Who made it: a live local run, a coordinator, or a finished job's report. */
  source: 'local' | 'cluster' | 'report';
  /** The source's clock at the last update: ages (heartbeats, durations) are taken from it. */
  now: number;
  workers: WorkerStatus[];
  /** Oldest first; at most {@link MAX_JOBS} (finished ones are dropped first). */
  jobs: JobView[];
  /** Cluster jobs not started (queued, or ended before starting), oldest first; at most {@link MAX_JOBS}. */
  pending: PendingJob[];
}

/** A change of the state, as server-sent events carry them (in arrays, see {@link mergeUpdate}). */
export type DashboardUpdate =
  | { type: 'workers'; now: number; workers: WorkerStatus[] }
  | { type: 'pending'; pending: PendingJob[] }
  | { type: 'jobStarted'; start: JobStart }
  | { type: 'progress'; snapshot: ProgressSnapshot }
  | { type: 'attempts'; jobId: string; attempts: AttemptView[] }
  | { type: 'jobEnded'; jobId: string; status: JobReport['status']; report?: JobSummary };

/** Jobs kept (a coordinator runs many). */
export const MAX_JOBS = 50;
/** Series samples are at least this far apart. */
export const SAMPLE_INTERVAL_MS = 1000;
/** A series that reaches this many samples loses every other one. */
export const MAX_SAMPLES = 2000;

/** `m-00003_1` for attempt 1 of task `m-00003`. */
export function attemptKey(a: Pick<AttemptRecord, 'taskId' | 'attempt'>): string {
  return `${a.taskId}_${a.attempt}`;
}

export function emptyState(source: DashboardState['source'], now: number): DashboardState {
  return { source, now, workers: [], jobs: [], pending: [] };
}

export function findJob(state: DashboardState, jobId: string): JobView | undefined {
  return state.jobs.find((j) => j.start.jobId === jobId);
}

/**
 * Applies `update` to `state` in place. Idempotent (an update applied twice,
 * or applied to a state that already has it, changes nothing more), so a
 * page may get an update that its initial state already reflects. Updates
 * about unknown jobs are ignored.
 */
export function applyUpdate(state: DashboardState, update: DashboardUpdate): void {
  switch (update.type) {
    case 'workers':
      state.now = Math.max(state.now, update.now);
      state.workers = update.workers;
      return;
    case 'pending':
      state.pending = update.pending;
      return;
    case 'jobStarted': {
      const known = findJob(state, update.start.jobId);
      if (known !== undefined) {
        known.start = update.start;
        return;
      }
      state.jobs.push({ start: update.start, status: 'running', series: [], attempts: {} });
      dropOldJobs(state);
      return;
    }
    case 'progress': {
      const job = findJob(state, update.snapshot.jobId);
      if (job === undefined) return;
      state.now = Math.max(state.now, update.snapshot.now);
      job.progress = update.snapshot;
      addSample(job.series, update.snapshot);
      return;
    }
    case 'attempts': {
      const job = findJob(state, update.jobId);
      if (job === undefined) return;
      for (const a of update.attempts) job.attempts[attemptKey(a)] = a;
      return;
    }
    case 'jobEnded': {
      const job = findJob(state, update.jobId);
      if (job === undefined) return;
      job.status = update.status;
      if (update.report !== undefined) job.report = update.report;
      return;
    }
  }
}

/**
 * Adds `update` to updates not sent yet, replacing what it makes stale: a
 * newer `workers` (or `pending`) list replaces the older one, a newer progress snapshot of a
 * job the older one, and attempts of a job that follow attempts of the same
 * job join them. Applying the result gives the state that applying them all
 * one by one gives (but for series samples, which are taken from the
 * snapshots that remain).
 */
export function mergeUpdate(pending: DashboardUpdate[], update: DashboardUpdate): void {
  if (update.type === 'workers' || update.type === 'pending') {
    removeWhere(pending, (u) => u.type === update.type);
  } else if (update.type === 'progress') {
    const jobId = update.snapshot.jobId;
    removeWhere(pending, (u) => u.type === 'progress' && u.snapshot.jobId === jobId);
  } else if (update.type === 'attempts') {
    const last = pending.at(-1);
    if (last?.type === 'attempts' && last.jobId === update.jobId) {
      last.attempts = [...last.attempts, ...update.attempts];
      return;
    }
  }
  pending.push(update);
}

function removeWhere<T>(items: T[], pred: (item: T) => boolean): void {
  const i = items.findIndex(pred);
  if (i >= 0) items.splice(i, 1);
}

function addSample(series: ProgressSample[], s: ProgressSnapshot): void {
  const last = series.at(-1);
  if (last !== undefined && s.now - last.t < SAMPLE_INTERVAL_MS) return;
  series.push({
    t: s.now,
    mapBytes: s.phases.map.bytesDone,
    mapRecords: s.phases.map.records,
    reduceBytes: s.phases.reduce.bytesDone,
    reduceRecords: s.phases.reduce.records,
  });
  if (series.length >= MAX_SAMPLES) {
    const kept = series.filter((_, i) => i % 2 === 0 || i === series.length - 1);
    series.splice(0, series.length, ...kept);
  }
}

function dropOldJobs(state: DashboardState): void {
  while (state.jobs.length > MAX_JOBS) {
    const finished = state.jobs.findIndex((j) => j.status !== 'running');
    state.jobs.splice(finished >= 0 ? finished : 0, 1);
  }
}
