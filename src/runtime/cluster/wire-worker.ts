/**
 * Checked reading of the `WorkerService` messages
 * (`proto/tsmr/cluster/v1/worker_service.proto`): requests, as the coordinator
 * receives them, and answers, as a worker receives them. Each returns plain
 * TS values (64-bit fields as numbers) or throws `TSMR_BAD_MESSAGE` naming
 * the field. Senders build these messages with `create(…Schema, …)`; the
 * task leases and outcomes inside them have their own conversions
 * (`wire-task.ts`, `wire-result.ts`).
 *
 * Fencing itself (comparing an incarnation with the worker's current one) is
 * the coordinator's; here every report yields its {@link WorkerRef}.
 */
import { parseAttemptId } from '../../engine/scheduler-types.ts';
import type { TaskKind } from '../../engine/scheduler-types.ts';
import type { SerializedError } from '../../errors.ts';
import type { AttemptOutcome } from '../../task/messages.ts';
import type * as pb from './gen/tsmr/cluster/v1/worker_service_pb.js';
import { VERSION_PATTERN } from './tsmr-version.ts';
import {
  attemptIdStr,
  httpUrl,
  int,
  jobIdStr,
  list,
  mapAttemptOf,
  noCase,
  num64,
  sha256Str,
  str,
  wireLimits,
  workerIdStr,
} from './wire-check.ts';
import { bundleBytesFromWire, errorFromWire } from './wire-common.ts';
import { outcomeFromWire } from './wire-result.ts';
import { taskSpecFromWire } from './wire-task.ts';
import type { TaskSpec } from './wire-task.ts';

/** Who sent a report: a worker and the incarnation it believes is current. */
export interface WorkerRef {
  workerId: string;
  /** >= 1. */
  incarnation: number;
}

/** An attempt named across jobs. */
export interface AttemptRef {
  jobId: string;
  attemptId: string;
}

export interface WorkerRegistration {
  workerId: string;
  tsmrVersion: string;
  shuffleUrl: string;
  slots: number;
  hostName: string;
  pid: number;
  /** Map outputs still held from earlier incarnations. */
  mapOutputs: MapOutputHeld[];
}

export interface MapOutputHeld {
  jobId: string;
  mapAttemptId: string;
}

/** Most slots a worker may announce. */
export const MAX_SLOTS = 1024;
/** Longest `AcquireTasks` wait, ms. */
export const MAX_POLL_WAIT_MS = 60_000;
/** Most map outputs one worker may list. */
const MAX_HELD = 1_000_000;

function workerRef(workerId: string, incarnation: bigint, field: string): WorkerRef {
  return {
    workerId: workerIdStr(workerId, `${field}.worker_id`),
    incarnation: num64(incarnation, `${field}.incarnation`, 1),
  };
}

function heldFromWire(list_: readonly pb.MapOutputHeld[], field: string): MapOutputHeld[] {
  return list(list_, field, MAX_HELD).map((m, i) => ({
    jobId: jobIdStr(m.jobId, `${field}[${i}].job_id`),
    mapAttemptId: attemptIdStr(m.mapAttemptId, `${field}[${i}].map_attempt_id`, 'map'),
  }));
}

// --- requests (coordinator side) --------------------------------------------

export function registrationFromWire(m: pb.RegisterRequest, field = 'RegisterRequest'): WorkerRegistration {
  return {
    workerId: workerIdStr(m.workerId, `${field}.worker_id`),
    tsmrVersion: str(m.tsmrVersion, `${field}.tsmr_version`, { max: 64, pattern: VERSION_PATTERN }),
    shuffleUrl: httpUrl(m.shuffleUrl, `${field}.shuffle_url`),
    slots: int(m.slots, `${field}.slots`, 1, MAX_SLOTS),
    hostName: str(m.hostName, `${field}.host_name`, { max: 255, empty: true }),
    pid: m.pid,
    mapOutputs: heldFromWire(m.mapOutputs, `${field}.map_outputs`),
  };
}

export interface Heartbeat {
  worker: WorkerRef;
  /** Attempts running now, with input bytes and records processed so far. */
  running: Array<AttemptRef & { bytes: number; records: number }>;
  mapOutputs: MapOutputHeld[];
  shuffleBytesServed: number;
}

export function heartbeatFromWire(m: pb.HeartbeatRequest, field = 'HeartbeatRequest'): Heartbeat {
  return {
    worker: workerRef(m.workerId, m.incarnation, field),
    running: list(m.running, `${field}.running`, MAX_SLOTS).map((r, i) => {
      const f = `${field}.running[${i}]`;
      return {
        jobId: jobIdStr(r.jobId, `${f}.job_id`),
        attemptId: attemptIdStr(r.attemptId, `${f}.attempt_id`),
        bytes: num64(r.bytes, `${f}.bytes`),
        records: num64(r.records, `${f}.records`),
      };
    }),
    mapOutputs: heldFromWire(m.mapOutputs, `${field}.map_outputs`),
    shuffleBytesServed: num64(m.shuffleBytesServed, `${field}.shuffle_bytes_served`),
  };
}

export interface TaskPoll {
  worker: WorkerRef;
  freeSlots: number;
  waitMs: number;
  pollSeq: number;
}

export function taskPollFromWire(m: pb.AcquireTasksRequest, field = 'AcquireTasksRequest'): TaskPoll {
  return {
    worker: workerRef(m.workerId, m.incarnation, field),
    freeSlots: int(m.freeSlots, `${field}.free_slots`, 1, MAX_SLOTS),
    waitMs: int(m.waitMs, `${field}.wait_ms`, 0, MAX_POLL_WAIT_MS),
    pollSeq: num64(m.pollSeq, `${field}.poll_seq`),
  };
}

export interface OutcomeReport extends AttemptRef {
  worker: WorkerRef;
  outcome: AttemptOutcome;
}

/**
 * @param numReducers the job's R, when known: a map output index must have R partitions.
 */
export function outcomeReportFromWire(
  m: pb.ReportOutcomeRequest,
  numReducers?: number,
  field = 'ReportOutcomeRequest',
): OutcomeReport {
  const id = attemptIdStr(m.attemptId, `${field}.attempt_id`);
  const kind: TaskKind = parseAttemptId(id)!.kind;
  return {
    worker: workerRef(m.workerId, m.incarnation, field),
    jobId: jobIdStr(m.jobId, `${field}.job_id`),
    attemptId: id,
    outcome: outcomeFromWire(m.outcome, `${field}.outcome`, { kind, numReducers }),
  };
}

export interface FetchFailureReport {
  worker: WorkerRef;
  jobId: string;
  reduceAttemptId: string;
  mapTaskId: string;
  mapAttemptId: string;
  error?: SerializedError;
}

export function fetchFailureFromWire(
  m: pb.ReportFetchFailureRequest,
  field = 'ReportFetchFailureRequest',
): FetchFailureReport {
  const report: FetchFailureReport = {
    worker: workerRef(m.workerId, m.incarnation, field),
    jobId: jobIdStr(m.jobId, `${field}.job_id`),
    reduceAttemptId: attemptIdStr(m.reduceAttemptId, `${field}.reduce_attempt_id`, 'reduce'),
    ...mapAttemptOf(m, field),
  };
  if (m.error !== undefined) report.error = errorFromWire(m.error, `${field}.error`);
  return report;
}

export function bundleHashFromWire(m: pb.GetBundleRequest, field = 'GetBundleRequest'): string {
  return sha256Str(m.sha256, `${field}.sha256`);
}

export function sessionRequestFromWire(m: pb.SessionRequest, field = 'SessionRequest'): WorkerRef {
  return workerRef(m.workerId, m.incarnation, field);
}

// --- answers (worker side) --------------------------------------------------

export interface Registered {
  incarnation: number;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
}

export function registeredFromWire(m: pb.RegisterResponse, field = 'RegisterResponse'): Registered {
  const heartbeatIntervalMs = int(m.heartbeatIntervalMs, `${field}.heartbeat_interval_ms`, 1, 3_600_000);
  return {
    incarnation: num64(m.incarnation, `${field}.incarnation`, 1),
    heartbeatIntervalMs,
    heartbeatTimeoutMs: int(
      m.heartbeatTimeoutMs,
      `${field}.heartbeat_timeout_ms`,
      heartbeatIntervalMs,
      86_400_000,
    ),
  };
}

export interface AttemptKill extends AttemptRef {
  reason: string;
}

function killFromWire(k: pb.AttemptKill, field: string): AttemptKill {
  return {
    jobId: jobIdStr(k.jobId, `${field}.job_id`),
    attemptId: attemptIdStr(k.attemptId, `${field}.attempt_id`),
    reason: str(k.reason, `${field}.reason`, { max: wireLimits.short, empty: true }),
  };
}

export interface HeartbeatAnswer {
  reregister: boolean;
  kill: AttemptKill[];
  discardJobs: string[];
}

export function heartbeatAnswerFromWire(
  m: pb.HeartbeatResponse,
  field = 'HeartbeatResponse',
): HeartbeatAnswer {
  return {
    reregister: m.reregister,
    kill: list(m.kill, `${field}.kill`, MAX_SLOTS * 4).map((k, i) => killFromWire(k, `${field}.kill[${i}]`)),
    discardJobs: list(m.discardJobs, `${field}.discard_jobs`, 10_000).map((j, i) =>
      jobIdStr(j, `${field}.discard_jobs[${i}]`),
    ),
  };
}

export function leasesFromWire(
  m: pb.AcquireTasksResponse,
  field = 'AcquireTasksResponse',
): { reregister: boolean; leases: TaskSpec[] } {
  return {
    reregister: m.reregister,
    leases: list(m.leases, `${field}.leases`, MAX_SLOTS).map((l, i) =>
      taskSpecFromWire(l, `${field}.leases[${i}]`),
    ),
  };
}

/** A command pushed on a worker's `Session`. */
export type SessionCommand =
  | { type: 'attached' }
  | ({ type: 'kill' } & AttemptKill)
  | { type: 'drain'; reason: string }
  | { type: 'discardJob'; jobId: string }
  | { type: 'reregister'; reason: string };

export function sessionCommandFromWire(m: pb.SessionResponse, field = 'SessionResponse'): SessionCommand {
  const { command } = m;
  const reason = (r: string, f: string) => str(r, f, { max: wireLimits.short, empty: true });
  switch (command.case) {
    case 'attached':
      return { type: 'attached' };
    case 'kill':
      return { type: 'kill', ...killFromWire(command.value, `${field}.kill`) };
    case 'drain':
      return { type: 'drain', reason: reason(command.value.reason, `${field}.drain.reason`) };
    case 'discardJob':
      return { type: 'discardJob', jobId: jobIdStr(command.value.jobId, `${field}.discard_job.job_id`) };
    case 'reregister':
      return { type: 'reregister', reason: reason(command.value.reason, `${field}.reregister.reason`) };
    default:
      throw noCase(field);
  }
}

/** The bundle of `GetBundleResponse`, checked against the hash it was asked for. */
export function bundleFromWire(
  m: pb.GetBundleResponse,
  sha256: string,
  field = 'GetBundleResponse',
): Uint8Array {
  return bundleBytesFromWire(m.bundle, sha256, `${field}.bundle`);
}
