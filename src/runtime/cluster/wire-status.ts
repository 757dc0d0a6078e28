/**
 * `ClientService.GetStatus` answers (`client_service.proto`): the jobs a
 * coordinator remembers and its workers, converted both ways; reading checks
 * every field (`TSMR_BAD_MESSAGE`). Times are epoch ms.
 */
import { create } from '@bufbuild/protobuf';
import type { SerializedError } from '../../errors.ts';
import type { ProgressSnapshot } from '../../engine/job-report.ts';
import {
  GetStatusResponseSchema,
  WorkerState as WorkerStatePb,
} from './gen/tsmr/cluster/v1/client_service_pb.js';
import type * as pb from './gen/tsmr/cluster/v1/client_service_pb.js';
import { VERSION_PATTERN } from './tsmr-version.ts';
import {
  attemptIdStr,
  big,
  enumCodec,
  httpUrl,
  int64,
  jobIdStr,
  list,
  num64,
  required,
  str,
  wireLimits,
  workerIdStr,
} from './wire-check.ts';
import { errorFromWire, errorToWire } from './wire-common.ts';
import { progressFromWire, progressToWire } from './wire-progress.ts';
import { jobStates } from './wire-report.ts';

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface JobStatus {
  jobId: string;
  name: string;
  state: JobState;
  submittedAt: number;
  /** Running and ended jobs. */
  progress?: ProgressSnapshot;
  /** Failed and cancelled jobs. */
  error?: SerializedError;
  /** Summed over the attempts committed so far (`group/name` → count). */
  counters: Record<string, number>;
  /** The latest failed attempts, oldest first, at most {@link MAX_STATUS_FAILURES}. */
  failures: FailedAttempt[];
}

/** A failed attempt of a job, as `tsmr status` lists it. */
export interface FailedAttempt {
  /** E.g. `m-00003_1`. */
  attemptId: string;
  /** The worker id it ran on. */
  worker: string;
  failedAt: number;
  error: SerializedError;
}

/** Most failed attempts one {@link JobStatus} lists. */
export const MAX_STATUS_FAILURES = 100;

/** `suspect`: missed a heartbeat, not yet timed out; `excluded`: alive but given no work. */
export type WorkerState = 'alive' | 'suspect' | 'dead' | 'excluded';

export interface WorkerStatus {
  workerId: string;
  incarnation: number;
  state: WorkerState;
  hostName: string;
  pid: number;
  shuffleUrl: string;
  tsmrVersion: string;
  registeredAt: number;
  lastHeartbeatAt: number;
  slotsTotal: number;
  slotsBusy: number;
  attemptsRun: number;
  attemptsFailed: number;
  mapOutputsHeld: number;
  shuffleBytesServed: number;
  /** Mean wall time of its ended attempts (all incarnations), ms; absent before the first one ends. */
  averageAttemptMs?: number;
}

export interface ClusterStatus {
  jobs: JobStatus[];
  workers: WorkerStatus[];
}

const workerStates = enumCodec({
  alive: WorkerStatePb.ALIVE,
  suspect: WorkerStatePb.SUSPECT,
  dead: WorkerStatePb.DEAD,
  excluded: WorkerStatePb.EXCLUDED,
});

/** Most jobs or workers in one answer. */
const MAX_ENTRIES = 100_000;

export function statusToWire(s: ClusterStatus): pb.GetStatusResponse {
  return create(GetStatusResponseSchema, {
    jobs: s.jobs.map((j) => ({
      jobId: j.jobId,
      name: j.name,
      state: jobStates.toWire(j.state),
      submittedAtMs: big(j.submittedAt, 'JobStatus.submitted_at_ms'),
      progress: j.progress && progressToWire(j.progress),
      error: j.error && errorToWire(j.error),
      counters: Object.fromEntries(
        Object.entries(j.counters).map(([k, v]) => [k, big(v, `JobStatus.counters ${k}`, true)]),
      ),
      failures: j.failures.map((a) => ({
        attemptId: a.attemptId,
        worker: a.worker,
        failedAtMs: big(a.failedAt, 'FailedAttempt.failed_at_ms'),
        error: errorToWire(a.error),
      })),
    })),
    workers: s.workers.map((w) => ({
      ...w,
      incarnation: big(w.incarnation, 'WorkerStatus.incarnation'),
      state: workerStates.toWire(w.state),
      registeredAtMs: big(w.registeredAt, 'WorkerStatus.registered_at_ms'),
      lastHeartbeatAtMs: big(w.lastHeartbeatAt, 'WorkerStatus.last_heartbeat_at_ms'),
      attemptsRun: big(w.attemptsRun, 'WorkerStatus.attempts_run'),
      attemptsFailed: big(w.attemptsFailed, 'WorkerStatus.attempts_failed'),
      mapOutputsHeld: big(w.mapOutputsHeld, 'WorkerStatus.map_outputs_held'),
      shuffleBytesServed: big(w.shuffleBytesServed, 'WorkerStatus.shuffle_bytes_served'),
      averageAttemptMs:
        w.averageAttemptMs === undefined
          ? undefined
          : big(w.averageAttemptMs, 'WorkerStatus.average_attempt_ms'),
    })),
  });
}

/** @throws TsmrError `TSMR_BAD_MESSAGE` naming the first field that breaks its rule. */
export function statusFromWire(m: pb.GetStatusResponse, field = 'GetStatusResponse'): ClusterStatus {
  return {
    jobs: list(m.jobs, `${field}.jobs`, MAX_ENTRIES).map((j, i) => {
      const f = `${field}.jobs[${i}]`;
      const job: JobStatus = {
        jobId: jobIdStr(j.jobId, `${f}.job_id`),
        name: str(j.name, `${f}.name`, { max: 256, empty: true }),
        state: jobStates.fromWire(j.state, `${f}.state`),
        submittedAt: num64(j.submittedAtMs, `${f}.submitted_at_ms`),
        counters: Object.fromEntries(
          list(Object.keys(j.counters), `${f}.counters`, wireLimits.counters).map((k) => [
            k,
            int64(j.counters[k], `${f}.counters[${JSON.stringify(k.slice(0, 40))}]`),
          ]),
        ),
        failures: list(j.failures, `${f}.failures`, MAX_STATUS_FAILURES).map((a, k) => {
          const fa = `${f}.failures[${k}]`;
          return {
            attemptId: attemptIdStr(a.attemptId, `${fa}.attempt_id`),
            worker: str(a.worker, `${fa}.worker`, { max: wireLimits.name, empty: true }),
            failedAt: num64(a.failedAtMs, `${fa}.failed_at_ms`),
            error: errorFromWire(required(a.error, `${fa}.error`), `${fa}.error`),
          };
        }),
      };
      if (j.progress !== undefined) job.progress = progressFromWire(j.progress, `${f}.progress`);
      if (j.error !== undefined) job.error = errorFromWire(j.error, `${f}.error`);
      return job;
    }),
    workers: list(m.workers, `${field}.workers`, MAX_ENTRIES).map((w, i) => {
      const f = `${field}.workers[${i}]`;
      const worker: WorkerStatus = {
        workerId: workerIdStr(w.workerId, `${f}.worker_id`),
        incarnation: num64(w.incarnation, `${f}.incarnation`, 1),
        state: workerStates.fromWire(w.state, `${f}.state`),
        hostName: str(w.hostName, `${f}.host_name`, { max: 255, empty: true }),
        pid: w.pid,
        shuffleUrl: httpUrl(w.shuffleUrl, `${f}.shuffle_url`),
        tsmrVersion: str(w.tsmrVersion, `${f}.tsmr_version`, { max: 64, pattern: VERSION_PATTERN }),
        registeredAt: num64(w.registeredAtMs, `${f}.registered_at_ms`),
        lastHeartbeatAt: num64(w.lastHeartbeatAtMs, `${f}.last_heartbeat_at_ms`),
        slotsTotal: w.slotsTotal,
        slotsBusy: w.slotsBusy,
        attemptsRun: num64(w.attemptsRun, `${f}.attempts_run`),
        attemptsFailed: num64(w.attemptsFailed, `${f}.attempts_failed`),
        mapOutputsHeld: num64(w.mapOutputsHeld, `${f}.map_outputs_held`),
        shuffleBytesServed: num64(w.shuffleBytesServed, `${f}.shuffle_bytes_served`),
      };
      if (w.averageAttemptMs !== undefined)
        worker.averageAttemptMs = num64(w.averageAttemptMs, `${f}.average_attempt_ms`);
      return worker;
    }),
  };
}
