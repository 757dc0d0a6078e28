/**
 * Types of the scheduler state machine ({@link ./scheduler.ts}): its
 * configuration, the events a runtime feeds it, the decisions it returns, and
 * its read-only views (snapshot, attempt history).
 *
 * Times are milliseconds. `now` in every event is the runtime's clock (epoch ms
 * in production, a fake clock in tests); the scheduler has no clock of its own.
 */
import type { SerializedError } from '../errors.ts';
import type { AttemptRecord } from './job-report.ts';

export type TaskKind = 'map' | 'reduce';

/** Scheduler settings. Only `numMaps` and `numReduces` are required. */
export interface SchedulerConfig {
  /** Number of map tasks M (one per split), ≥ 0. */
  numMaps: number;
  /** Number of reduce tasks R (one per partition), ≥ 0. With 0 the job is map-only. */
  numReduces: number;
  /**
   * Failed attempts of one task before the job fails. Default 4 (Hadoop's
   * `mapreduce.map.maxattempts`). Attempts killed because their worker died,
   * or because another attempt won, do not count (Hadoop: "killed", not "failed").
   */
  maxAttempts?: number;
  /** An attempt with no progress (or assignment) event for this long is killed and counts as failed. Default 600_000 ms. */
  taskTimeoutMs?: number;
  /**
   * A worker with no heartbeat (or join) for this long is treated as lost.
   * Default 10_000 ms (heartbeat every 2 s × 5 missed). `Infinity` disables it
   * (local mode, where the one worker is the process itself).
   */
  heartbeatTimeoutMs?: number;
  /** Speculative backup attempts for stragglers (Google MR §3.6). Default false. */
  speculation?: boolean;
  /**
   * Fetch failures reported for one committed map output before the map task is
   * re-executed (Hadoop re-runs a map after 3 "fetch failure" notifications),
   * when they are also at least half the reduce attempts running; fewer when
   * fewer than this many reduce attempts run (see "Fetch failures" in
   * `scheduler.ts`). Default 3.
   */
  maxFetchFailures?: number;
  /**
   * Failed attempts of this job on one worker after which the worker gets no
   * more of its tasks (Hadoop's `mapreduce.job.maxtaskfailures.per.tracker`,
   * default 3; Spark's `spark.excludeOnFailure`). Only failures of attempts
   * while they ran there count: errors and timeouts, not kills, lost workers,
   * uncounted failures, refused commits or fetch failures. `Infinity` turns
   * exclusion off (local mode, where the one worker is the process itself).
   * Default 3.
   */
  maxWorkerFailures?: number;
  /**
   * Speculation: an attempt is a straggler when its progress rate is at most the
   * phase's median rate divided by this. Default 2 (it would take at least twice
   * as long as a typical task).
   */
  speculationSlowdown?: number;
  /** Speculation: an attempt must have run this long before it can get a backup. Default 5_000 ms. */
  speculationMinRuntimeMs?: number;
}

/** {@link SchedulerConfig} with every default filled in. */
export type ResolvedSchedulerConfig = Required<SchedulerConfig>;

export const schedulerDefaults = {
  maxAttempts: 4,
  taskTimeoutMs: 600_000,
  heartbeatTimeoutMs: 10_000,
  speculation: false,
  maxFetchFailures: 3,
  maxWorkerFailures: 3,
  speculationSlowdown: 2,
  speculationMinRuntimeMs: 5_000,
} as const satisfies Omit<ResolvedSchedulerConfig, 'numMaps' | 'numReduces'>;

/**
 * What the runtime tells the scheduler. Every event carries `now` (ms); the
 * scheduler's clock is the largest `now` seen, so an event stamped in the past
 * does not move time backwards.
 */
export type SchedulerEvent =
  /** A worker registered (or re-registered) with `slots` task slots (threads). Also counts as a heartbeat. */
  | { type: 'workerJoined'; now: number; workerId: string; slots: number }
  /** The worker's connection closed or its process exited. */
  | { type: 'workerLost'; now: number; workerId: string }
  /** Periodic liveness message of a worker (renews its lease). */
  | { type: 'heartbeat'; now: number; workerId: string }
  /**
   * An attempt reports progress `fraction` in [0, 1]; resets its task timeout.
   * `bytes` and `records` (optional) are its input read so far: kept for the
   * attempt's history entry, never used for decisions.
   */
  | { type: 'progress'; now: number; attemptId: string; fraction: number; bytes?: number; records?: number }
  /**
   * An attempt finished its work. For a map, `output` says where its map output
   * is (index + location); the scheduler keeps it and returns it from
   * `mapOutput()` once that attempt is committed. `written` (optional): the
   * bytes and records it wrote, for its history entry.
   */
  | {
      type: 'attemptSucceeded';
      now: number;
      attemptId: string;
      output?: unknown;
      written?: { bytes: number; records: number };
    }
  /**
   * An attempt failed. `retriable: false` (default true) fails the job at once,
   * for errors no retry can fix (e.g. a bad key type, a changed input), with
   * the error's own `TSMR_` code (else `TSMR_TASK_FAILED`). `counted: false`
   * (default true) retries a retriable failure without counting it against
   * `maxAttempts`: the runtime makes the next attempt differ (skip mode leaves
   * out the record this one failed on) and bounds such failures itself.
   */
  | {
      type: 'attemptFailed';
      now: number;
      attemptId: string;
      error: SerializedError;
      retriable?: boolean;
      counted?: boolean;
    }
  /** The runtime performed the commit the scheduler asked for; `committed: false` if the commit was refused. */
  | { type: 'commitDone'; now: number; attemptId: string; committed: boolean }
  /**
   * Reduce attempt `reduceAttemptId` could not read map task `mapTaskId`'s
   * committed output. `mapAttemptId` (recommended; Hadoop's notifications carry
   * it too) names the map attempt whose output was tried: a report about an
   * output that was already replaced is then ignored instead of being charged
   * to the new one.
   */
  | { type: 'fetchFailed'; now: number; mapTaskId: string; reduceAttemptId: string; mapAttemptId?: string }
  /** Time passes (the runtime sends one about every second). */
  | { type: 'tick'; now: number }
  /** Stop the job (signal, Ctrl-C, client request). */
  | { type: 'cancel'; now: number; reason: string };

/**
 * What the scheduler asks the runtime to do. Apply decisions in array order:
 * a `kill` that frees a slot comes before the `assign` that reuses it.
 */
export type Decision =
  /** Start attempt `attemptId` of task `taskId` on `workerId`. */
  | {
      type: 'assign';
      attemptId: string;
      taskId: string;
      kind: TaskKind;
      index: number;
      attempt: number;
      workerId: string;
      speculative: boolean;
    }
  /** Stop a running attempt (its slot is free from now on); any later report from it is ignored. */
  | { type: 'kill'; attemptId: string; workerId: string; reason: string }
  /**
   * An attempt that succeeded will never be committed (another attempt
   * committed, its commit was refused, its worker was lost before the commit,
   * the job ended): delete its output. A killed running attempt gets `kill`
   * instead, and deletes its own files when it stops.
   */
  | { type: 'discard'; attemptId: string; workerId: string; kind: TaskKind }
  /**
   * Commit the output of a succeeded attempt (reduce: rename its attempt dir;
   * map: record its output), then answer with `commitDone`. At most one commit
   * per task is in flight.
   */
  | { type: 'commit'; attemptId: string; taskId: string; kind: TaskKind }
  /** Every task is committed: commit the job. Emitted once. */
  | { type: 'jobSucceeded' }
  /** The job failed (or was cancelled): abort the job. Emitted once. */
  | { type: 'jobFailed'; error: SerializedError };

/**
 * Where a task stands. `pending`: needs an attempt (reduces stay pending until
 * every map is committed); `running`: at least one attempt runs; `committing`: a
 * commit is in flight; `committed`: done.
 */
export type TaskState = 'pending' | 'running' | 'committing' | 'committed';

/**
 * Internal life of an attempt. `succeeded`: finished, waiting for its task's
 * commit slot; `duplicate`: succeeded but another attempt committed (or its
 * commit was refused); `lost`: was committed, but its map output was lost
 * (worker died, or too many fetch failures) and the map was re-executed.
 */
export type AttemptState =
  'running' | 'succeeded' | 'committing' | 'committed' | 'failed' | 'killed' | 'duplicate' | 'lost';

/** The report form (`AttemptRecord.status`) of each {@link AttemptState}. */
export const attemptReportStatus: Readonly<Record<AttemptState, AttemptRecord['status']>> = {
  running: 'running',
  succeeded: 'succeeded',
  committing: 'succeeded',
  committed: 'committed',
  failed: 'failed',
  killed: 'killed',
  duplicate: 'duplicate',
  lost: 'killed',
};

/** One attempt, as recorded for the job report (`JobReport.attempts`), plus scheduler facts. */
export interface AttemptHistoryEntry extends AttemptRecord {
  attemptId: string;
  kind: TaskKind;
  index: number;
  speculative: boolean;
  /** The scheduler's own state of the attempt (`status` is its report form). */
  state: AttemptState;
  /** Why it was killed, lost or ignored as a duplicate. */
  reason?: string;
}

export interface TaskSnapshot {
  taskId: string;
  kind: TaskKind;
  index: number;
  state: TaskState;
  /** Attempt ids, oldest first. */
  attempts: string[];
  /** Failed attempts that count against `maxAttempts`. */
  failures: number;
  committedAttempt?: string;
  /** Map tasks: the committed attempt's `output`. */
  mapOutput?: unknown;
  /** A speculative backup was started for this task. */
  speculated: boolean;
}

export interface PhaseCounts {
  total: number;
  pending: number;
  running: number;
  committing: number;
  committed: number;
}

export interface WorkerSnapshot {
  workerId: string;
  slots: number;
  alive: boolean;
  /** Running attempt ids (each takes one slot). */
  running: string[];
  lastHeartbeatAt: number;
  /** Attempts of this job that failed while running on it (see `maxWorkerFailures`). */
  failedAttempts: number;
  /** It failed `maxWorkerFailures` attempts of this job and gets no more of its tasks. */
  excluded: boolean;
}

/** Counts of things that happened, for the report and the metrics. */
export interface SchedulerStats {
  /** Attempts started (including retries, re-executions and backups). */
  attemptsStarted: number;
  /**
   * Failures counted against `maxAttempts` (including timeouts, map outputs lost
   * to fetch failures, and a failure no retry can fix, which ends the job).
   */
  failedAttempts: number;
  /** Attempts killed (lost workers, losers of a race, job end) plus failures that do not count. */
  killedAttempts: number;
  timedOutAttempts: number;
  /** Attempt outcomes ignored because the task was already committed (`JobReport.duplicateCompletions`). */
  duplicateCompletions: number;
  /** Events about unknown, killed or finished attempts or workers, or after the job ended: ignored. */
  lateEvents: number;
  fetchFailures: number;
  /** Committed map outputs lost and their map tasks re-executed (Google MR §3.3). */
  reexecutedMaps: number;
  speculativeAttempts: number;
  lostWorkers: number;
}

export interface SchedulerSnapshot {
  /** The scheduler's clock: the largest `now` seen. */
  now: number;
  status: 'running' | 'succeeded' | 'failed';
  /** `map` until every map task is committed, then `reduce`. */
  phase: TaskKind;
  counts: Record<TaskKind, PhaseCounts>;
  /** Maps in index order, then reduces. */
  tasks: TaskSnapshot[];
  /** In order of first join. */
  workers: WorkerSnapshot[];
  stats: SchedulerStats;
  config: ResolvedSchedulerConfig;
}

/** `'m-00003'` / `'r-00001'`: kind letter and 5-digit index. */
export function taskIdOf(kind: TaskKind, index: number): string {
  return `${kind === 'map' ? 'm' : 'r'}-${String(index).padStart(5, '0')}`;
}

/** `'m-00003_0'`: task id and attempt number. */
export function attemptIdOf(taskId: string, attempt: number): string {
  return `${taskId}_${attempt}`;
}

/** Inverse of {@link taskIdOf} + {@link attemptIdOf}; undefined if `attemptId` is not of that form. */
export function parseAttemptId(
  attemptId: string,
): { taskId: string; kind: TaskKind; index: number; attempt: number } | undefined {
  const m = /^([mr])-(\d{5,})_(\d+)$/.exec(attemptId);
  if (!m) return undefined;
  const kind: TaskKind = m[1] === 'm' ? 'map' : 'reduce';
  const index = Number(m[2]);
  return { taskId: taskIdOf(kind, index), kind, index, attempt: Number(m[3]) };
}
