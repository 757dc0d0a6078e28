/**
 * Cluster mode's {@link AttemptExecutor}: runs one job's attempts on the
 * workers of a {@link WorkerRegistry}. An attempt becomes a task lease queued
 * for the worker the scheduler chose; the worker takes it with
 * `AcquireTasks`, reports progress in heartbeats and its end with
 * `ReportOutcome`. The job driver and scheduler are the same as in local mode.
 *
 * - A map attempt's output stays on its worker: the outcome's location is
 *   `{ kind: 'worker', workerId, shuffleUrl }`, and reduce attempts fetch it
 *   from there.
 * - A lost worker (see `worker-registry.ts`) is announced with `workerLost`
 *   before its attempts' outcomes settle as failures (`TSMR_WORKER_LOST`), so
 *   the scheduler counts them as lost, not failed, and re-executes the map
 *   outputs it held (Google MapReduce §3.3).
 * - Reports are fenced: only the incarnation an attempt was leased to can end
 *   it; a late, repeated or foreign report is ignored.
 * - A reduce attempt of a job without an output directory leaves its records
 *   file on its worker, which serves it as the job's results; the executor
 *   remembers which incarnation holds each ({@link ClusterExecutor.resultHolder}).
 * - A kill is sent on the worker's session (and repeated in heartbeat
 *   answers); the outcome settles when the worker reports the attempt's end
 *   or is lost.
 */
import { ErrorCode, serializeError, TsmrError } from '../../errors.ts';
import type { AttemptOutcome, TaskMessage, TaskProgress } from '../../task/messages.ts';
import { attemptIdOf } from '../../engine/scheduler-types.ts';
import type { AttemptExecutor, ExecutorEvent, RunningAttempt } from '../executor.ts';
import type { WireJobRef } from './wire-common.ts';
import { type TaskSpec, taskSpecToWire } from './wire-task.ts';
import type { FetchFailureReport, OutcomeReport } from './wire-worker.ts';
import type { WorkerEntry, WorkerRegistry } from './worker-registry.ts';

/** An attempt leased to a worker, until its outcome settles. */
interface LeasedAttempt {
  worker: WorkerEntry;
  startedAt: number;
  onProgress(p: TaskProgress): void;
  settle(outcome: AttemptOutcome): void;
}

export interface ClusterExecutorOptions {
  /** The job's input was uploaded: map leases say so, and workers copy it from the coordinator. */
  uploadedInput?: boolean;
  /**
   * The job has no output directory: its committed records outputs stay on
   * their workers for the client, so `releaseJob` leaves the job's files
   * there (`cluster-jobs.ts` discards them once the results are read).
   */
  keepResults?: boolean;
}

export interface ClusterExecutor extends AttemptExecutor {
  /** The worker incarnation that reported a succeeded reduce attempt with a records output. */
  resultHolder(attemptId: string): WorkerEntry | undefined;
  /** A worker's `ReportOutcome` for this job. Returns false when it was ignored (late, repeated, fenced). */
  reportOutcome(worker: WorkerEntry, report: OutcomeReport): boolean;
  /** A worker's `ReportFetchFailure` for this job. */
  reportFetchFailure(report: FetchFailureReport): void;
}

/**
 * @param job the job's code as tasks get it (a bundle hash, or streaming commands).
 */
export function createClusterExecutor(
  registry: WorkerRegistry,
  jobId: string,
  job: WireJobRef,
  options: ClusterExecutorOptions = {},
): ClusterExecutor {
  const leased = new Map<string, LeasedAttempt>();
  const resultHolders = new Map<string, WorkerEntry>();
  const listeners = new Set<(event: ExecutorEvent) => void>();
  /** Every worker that took part, with its slots (the report's workers section). */
  const workers = new Map<string, { id: string; slots: number }>();
  const emit = (event: ExecutorEvent): void => {
    for (const listener of listeners) listener(event);
  };

  const onJoined = (w: WorkerEntry): void => {
    workers.set(w.id, { id: w.id, slots: w.registration.slots });
    emit({ type: 'workerJoined', workerId: w.id, slots: w.registration.slots });
  };
  const onLost = (w: WorkerEntry, reason: string): void => {
    emit({ type: 'workerLost', workerId: w.id, reason });
    for (const [attemptId, a] of leased) {
      if (a.worker !== w) continue;
      a.settle({
        ok: false,
        retriable: true,
        error: serializeError(
          new TsmrError(
            ErrorCode.WORKER_LOST,
            `worker ${w.id} was lost while running ${attemptId}: ${reason}`,
            {
              details: { workerId: w.id, attemptId },
            },
          ),
        ),
      });
    }
  };
  const onHeartbeat = (w: WorkerEntry): void => {
    for (const [attemptId, r] of w.running) {
      const a = leased.get(attemptId);
      if (a?.worker === w && r.jobId === jobId) a.onProgress({ bytes: r.bytes, records: r.records });
    }
  };
  registry.on('joined', onJoined);
  registry.on('lost', onLost);
  registry.on('heartbeat', onHeartbeat);
  for (const w of registry.alive()) workers.set(w.id, { id: w.id, slots: w.registration.slots });

  return {
    get workers() {
      return [...workers.values()];
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    start(workerId: string, msg: TaskMessage, onProgress): RunningAttempt {
      const attemptId = attemptIdOf(msg.taskId, msg.attempt);
      let settle!: (o: AttemptOutcome) => void;
      const outcome = new Promise<AttemptOutcome>((resolve) => (settle = resolve));
      const worker = registry.alive().find((w) => w.id === workerId);
      if (worker === undefined) {
        settle(lostBeforeStart(workerId, attemptId));
        return { outcome, kill: () => {} };
      }
      const entry: LeasedAttempt = {
        worker,
        startedAt: Date.now(),
        onProgress,
        settle: (o) => {
          if (leased.get(attemptId) !== entry) return;
          leased.delete(attemptId);
          worker.attemptMs += Date.now() - entry.startedAt;
          worker.attemptsEnded++;
          settle(o);
        },
      };
      leased.set(attemptId, entry);
      worker.attemptsRun++;
      const spec: TaskSpec =
        msg.kind === 'map' ? { ...msg, job, uploadedInput: options.uploadedInput } : { ...msg, job };
      registry.offer(worker, { jobId, attemptId, lease: taskSpecToWire(spec) });
      return {
        outcome,
        kill(reason) {
          if (leased.get(attemptId) === entry)
            registry.command(worker, { kind: 'kill', jobId, attemptId, reason });
        },
      };
    },
    excluded(workerIds) {
      for (const w of registry.alive()) w.excluded = workerIds.includes(w.id);
    },
    reportOutcome(worker, report) {
      const a = leased.get(report.attemptId);
      if (a === undefined || a.worker !== worker || report.jobId !== jobId) return false;
      const o = report.outcome;
      if (!o.ok) worker.attemptsFailed++;
      if (o.ok && o.result.output?.segment !== undefined) resultHolders.set(report.attemptId, worker);
      a.settle(
        o.ok && o.result.mapOutput !== undefined
          ? {
              ...o,
              mapOutput: { kind: 'worker', workerId: worker.id, shuffleUrl: worker.registration.shuffleUrl },
            }
          : o,
      );
      return true;
    },
    reportFetchFailure(report) {
      if (report.jobId !== jobId) return;
      const { reduceAttemptId, mapTaskId, mapAttemptId } = report;
      emit({ type: 'fetchFailed', reduceAttemptId, mapTaskId, mapAttemptId });
    },
    discard: async () => {
      // A map output stays on its worker until the job's end (`releaseJob`);
      // a reduce attempt's files are the output committer's to delete.
    },
    resultHolder: (attemptId) => resultHolders.get(attemptId),
    async releaseJob(id) {
      if (!options.keepResults) discardJobOnWorkers(registry, id);
    },
    async close() {
      registry.off('joined', onJoined);
      registry.off('lost', onLost);
      registry.off('heartbeat', onHeartbeat);
      listeners.clear();
      for (const w of registry.alive()) w.excluded = false;
      for (const [attemptId, a] of leased) a.settle(lostBeforeStart(a.worker.id, attemptId, 'the job ended'));
    },
  };
}

/** Tells every live worker to delete what it holds of job `jobId`. */
export function discardJobOnWorkers(registry: WorkerRegistry, jobId: string): void {
  for (const w of registry.alive()) registry.command(w, { kind: 'discardJob', jobId });
}

function lostBeforeStart(
  workerId: string,
  attemptId: string,
  why = 'it is no longer registered',
): AttemptOutcome {
  return {
    ok: false,
    retriable: true,
    error: serializeError(
      new TsmrError(ErrorCode.WORKER_LOST, `${attemptId} did not run on worker ${workerId}: ${why}`, {
        details: { workerId, attemptId },
      }),
    ),
  };
}
