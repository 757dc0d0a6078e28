/**
 * The coordinator's RPC handlers: `WorkerService` (registration, heartbeats,
 * leases, outcomes, fetch failures, bundles, sessions) over the
 * {@link WorkerRegistry}, and `ClientService` (upload, submit, status, watch,
 * cancel, shutdown) over the {@link ClusterJobs}. Every request is read with
 * the checked conversions of `wire-*.ts` (a broken rule is
 * `INVALID_ARGUMENT`); every worker report is fenced by its incarnation.
 */
import { readFile } from 'node:fs/promises';
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, type ConnectRouter, type HandlerContext } from '@connectrpc/connect';
import { isTsmrError, ErrorCode } from '../../errors.ts';
import type { Logger } from '../../observe/logger.ts';
import type { BundleCache } from './bundle-cache.ts';
import type { ClusterJob, ClusterJobs } from './cluster-jobs.ts';
import {
  CancelJobResponseSchema,
  ClientService,
  SubmitJobResponseSchema,
  type WatchJobResponse,
} from './gen/tsmr/cluster/v1/client_service_pb.js';
import {
  AcquireTasksResponseSchema,
  HeartbeatResponseSchema,
  RegisterResponseSchema,
  ReportFetchFailureResponseSchema,
  ReportOutcomeResponseSchema,
  SessionResponseSchema,
  type SessionResponse,
  WorkerService,
} from './gen/tsmr/cluster/v1/worker_service_pb.js';
import { serviceLimits } from './rpc-limits.ts';
import { tsmrVersion, versionRefusal } from './tsmr-version.ts';
import { jobIdStr, str } from './wire-check.ts';
import { submissionFromWire, uploadFromWire } from './wire-job.ts';
import { jobStates } from './wire-report.ts';
import { type JobEvent, jobEventToWire } from './wire-watch.ts';
import type { JobStart, ProgressSnapshot } from '../../engine/job-report.ts';
import type { AttemptHistoryEntry } from '../../engine/scheduler-types.ts';
import { statusToWire } from './wire-status.ts';
import {
  bundleHashFromWire,
  fetchFailureFromWire,
  heartbeatFromWire,
  outcomeReportFromWire,
  registrationFromWire,
  sessionRequestFromWire,
  taskPollFromWire,
} from './wire-worker.ts';
import type { WorkerCommand, WorkerEntry, WorkerRegistry } from './worker-registry.ts';

/** How often `WatchJob` sends a progress snapshot at most, ms. */
const WATCH_INTERVAL_MS = 200;

export interface CoordinatorServicesOptions {
  registry: WorkerRegistry;
  jobs: ClusterJobs;
  bundles: BundleCache;
  log: Logger;
  /** The tsmr version workers must match (major.minor; default this tsmr's). */
  version?: string;
  /** `Shutdown` was called: the coordinator closes after answering. */
  onShutdown(reason: string): void;
  /** True once the coordinator is shutting down: registrations are refused. */
  closing(): boolean;
}

/** Registers both services on `router`. */
export function coordinatorRoutes(opts: CoordinatorServicesOptions): (router: ConnectRouter) => void {
  const { registry, jobs, bundles, log } = opts;
  const version = opts.version ?? tsmrVersion();
  /** The newest session of each incarnation: only its end loses the worker. */
  const sessions = new WeakMap<WorkerEntry, object>();
  const reregister = { reregister: true };

  return (router) => {
    router.service(
      WorkerService,
      {
        register(req) {
          const reg = registrationFromWire(req);
          if (opts.closing())
            throw new ConnectError('the coordinator is shutting down', Code.FailedPrecondition);
          const refusal = versionRefusal(reg.tsmrVersion, version);
          if (refusal !== undefined) {
            log.warn({ worker: reg.workerId, version: reg.tsmrVersion }, `refused a worker: ${refusal}`);
            throw new ConnectError(refusal, Code.FailedPrecondition);
          }
          const entry = registry.register(reg);
          return create(RegisterResponseSchema, {
            incarnation: BigInt(entry.incarnation),
            heartbeatIntervalMs: registry.heartbeatIntervalMs,
            heartbeatTimeoutMs: registry.heartbeatTimeoutMs,
          });
        },
        heartbeat(req) {
          const beat = heartbeatFromWire(req);
          const entry = registry.current(beat.worker);
          if (entry === undefined) return create(HeartbeatResponseSchema, reregister);
          const { kills, discardJobs } = registry.heartbeat(entry, beat);
          return create(HeartbeatResponseSchema, { kill: kills, discardJobs });
        },
        async acquireTasks(req, ctx) {
          const poll = taskPollFromWire(req);
          const entry = registry.current(poll.worker);
          if (entry === undefined) return create(AcquireTasksResponseSchema, reregister);
          const leases = await registry.acquire(entry, poll.freeSlots, poll.waitMs, poll.pollSeq, ctx.signal);
          return create(AcquireTasksResponseSchema, { leases: leases.map((l) => l.lease) });
        },
        reportOutcome(req) {
          const report = outcomeReportFromWire(req);
          const entry = registry.current(report.worker);
          if (entry === undefined) return create(ReportOutcomeResponseSchema, reregister);
          const taken = jobs.running(report.jobId)?.executor?.reportOutcome(entry, report) ?? false;
          if (!taken)
            log.debug(
              { worker: entry.id, attemptId: report.attemptId },
              'ignored a late or repeated outcome',
            );
          return create(ReportOutcomeResponseSchema, {});
        },
        reportFetchFailure(req) {
          const report = fetchFailureFromWire(req);
          const entry = registry.current(report.worker);
          if (entry === undefined) return create(ReportFetchFailureResponseSchema, reregister);
          log.info(
            { worker: entry.id, reduceAttemptId: report.reduceAttemptId, mapAttemptId: report.mapAttemptId },
            'fetch failure reported',
          );
          jobs.running(report.jobId)?.executor?.reportFetchFailure(report);
          return create(ReportFetchFailureResponseSchema, {});
        },
        async getBundle(req) {
          const sha = bundleHashFromWire(req);
          if (!bundles.has(sha)) throw new ConnectError(`no bundle ${sha}`, Code.NotFound);
          return { bundle: await readFile(bundles.path(sha)) };
        },
        async *session(req, ctx: HandlerContext) {
          const entry = registry.current(sessionRequestFromWire(req));
          if (entry === undefined) {
            yield sessionCommand({ kind: 'reregister', reason: 'this incarnation has ended' });
            return;
          }
          const token = {};
          sessions.set(entry, token);
          try {
            yield create(SessionResponseSchema, { command: { case: 'attached', value: {} } });
            for await (const command of registry.sessionCommands(entry, ctx.signal)) {
              yield sessionCommand(command);
            }
          } finally {
            if (sessions.get(entry) === token && !opts.closing()) {
              registry.lose(entry, 'its session ended (the worker process exited or its connection was cut)');
            }
          }
        },
      },
      serviceLimits.worker,
    );

    router.service(
      ClientService,
      {
        async uploadBundle(req) {
          const { sha256, bundle } = uploadFromWire(req);
          if (!bundles.has(sha256)) await bundles.put(sha256, bundle);
          return {};
        },
        submitJob(req) {
          const submission = submissionFromWire(req);
          try {
            return create(SubmitJobResponseSchema, { jobId: jobs.submit(submission).jobId });
          } catch (error) {
            if (isTsmrError(error) && error.code === ErrorCode.USAGE) {
              throw new ConnectError(error.message, Code.FailedPrecondition);
            }
            throw error;
          }
        },
        getStatus(req) {
          const one = req.jobId === undefined ? undefined : jobOf(jobs, req.jobId, 'GetStatusRequest.job_id');
          return statusToWire({
            jobs: (one ? [one] : jobs.list()).map((j) => j.status()),
            workers: registry.status(),
          });
        },
        async *watchJob(req, ctx: HandlerContext) {
          const job = jobOf(jobs, req.jobId, 'WatchJobRequest.job_id');
          yield* watch(job, ctx.signal);
        },
        cancelJob(req) {
          const job = jobOf(jobs, req.jobId, 'CancelJobRequest.job_id');
          const reason =
            str(req.reason, 'CancelJobRequest.reason', { max: 1024, empty: true }) || 'cancelled by a client';
          jobs.cancel(job, reason);
          return create(CancelJobResponseSchema, { state: jobStates.toWire(job.state) });
        },
        shutdown(req) {
          const reason =
            str(req.reason, 'ShutdownRequest.reason', { max: 1024, empty: true }) || 'shutdown requested';
          setImmediate(() => opts.onShutdown(reason));
          return {};
        },
      },
      serviceLimits.client,
    );
  };
}

function jobOf(jobs: ClusterJobs, jobId: string, field: string): ClusterJob {
  const job = jobs.get(jobIdStr(jobId, field));
  if (job === undefined) throw new ConnectError(`no job ${jobId} on this coordinator`, Code.NotFound);
  return job;
}

/**
 * A job's events for one watcher (`WatchJobResponse`): its start and every
 * attempt so far (a late watcher catches up), then attempts as they change and
 * the latest progress at most every {@link WATCH_INTERVAL_MS} (a slow reader
 * misses snapshots, never attempts), then the report when it has one, then the
 * end. A job that failed before running tasks ends without a report: its
 * error is in `GetStatus`.
 */
async function* watch(job: ClusterJob, signal: AbortSignal): AsyncGenerator<WatchJobResponse> {
  const queue: JobEvent[] = [];
  let wake: (() => void) | undefined;
  const push = (e: JobEvent): void => {
    queue.push(e);
    wake?.();
  };
  const onStarted = (start: JobStart) => push({ type: 'started', start });
  const onAttempt = (attempt: AttemptHistoryEntry) => push({ type: 'attempt', attempt });
  const onEnded = () => wake?.();
  if (job.start !== undefined) queue.push({ type: 'started', start: job.start });
  for (const attempt of job.attempts.values()) queue.push({ type: 'attempt', attempt });
  job.on('started', onStarted);
  job.on('attempt', onAttempt);
  job.on('ended', onEnded);
  signal.addEventListener('abort', onEnded);
  let sent: ProgressSnapshot | undefined;
  let sentAt = 0;
  try {
    while (!signal.aborted) {
      for (let e = queue.shift(); e !== undefined; e = queue.shift()) yield jobEventToWire(e);
      if (job.ended) break;
      const now = Date.now();
      if (job.progress !== undefined && job.progress !== sent && now - sentAt >= WATCH_INTERVAL_MS) {
        sent = job.progress;
        sentAt = now;
        yield jobEventToWire({ type: 'progress', snapshot: sent });
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, WATCH_INTERVAL_MS);
        function done(): void {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        }
        wake = done;
      });
    }
    if (job.report !== undefined && !signal.aborted)
      yield jobEventToWire({ type: 'report', report: job.report });
  } finally {
    job.off('started', onStarted);
    job.off('attempt', onAttempt);
    job.off('ended', onEnded);
    signal.removeEventListener('abort', onEnded);
  }
}

function sessionCommand(command: WorkerCommand): SessionResponse {
  switch (command.kind) {
    case 'kill':
      return create(SessionResponseSchema, {
        command: {
          case: 'kill',
          value: { jobId: command.jobId, attemptId: command.attemptId, reason: command.reason },
        },
      });
    case 'drain':
      return create(SessionResponseSchema, { command: { case: 'drain', value: { reason: command.reason } } });
    case 'discardJob':
      return create(SessionResponseSchema, {
        command: { case: 'discardJob', value: { jobId: command.jobId } },
      });
    case 'reregister':
      return create(SessionResponseSchema, {
        command: { case: 'reregister', value: { reason: command.reason } },
      });
  }
}
