/**
 * Progress snapshots (`ProgressSnapshot` of `client_service.proto`, of
 * `src/engine/job-report.ts`), converted both ways; reading checks every
 * field (`TSMR_BAD_MESSAGE`). They travel in `WatchJob` streams and in
 * `GetStatus` answers.
 */
import { create } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { PhaseName, PhaseProgress, ProgressSnapshot, StalledAttempt } from '../../engine/job-report.ts';
import { ProgressSnapshotSchema } from './gen/tsmr/cluster/v1/client_service_pb.js';
import type * as pb from './gen/tsmr/cluster/v1/client_service_pb.js';
import {
  attemptIdStr,
  big,
  int,
  jobIdStr,
  list,
  num64,
  optBig,
  optNum64,
  required,
  str,
  wireLimits,
} from './wire-check.ts';

/** Most stalled attempts listed in one snapshot (at most one per running attempt). */
const MAX_STALLED = 100_000;

function phaseToWire(p: PhaseProgress): MessageInitShape<typeof pb.PhaseProgressSchema> {
  return {
    tasksTotal: p.tasksTotal,
    tasksDone: p.tasksDone,
    tasksRunning: p.tasksRunning,
    bytesTotal: big(p.bytesTotal, 'PhaseProgress.bytes_total'),
    bytesDone: big(p.bytesDone, 'PhaseProgress.bytes_done'),
    records: big(p.records, 'PhaseProgress.records'),
    startedAtMs: optBig(p.startedAt, 'PhaseProgress.started_at_ms'),
    finishedAtMs: optBig(p.finishedAt, 'PhaseProgress.finished_at_ms'),
  };
}

function phaseFromWire(m: pb.PhaseProgress | undefined, phase: PhaseName, field: string): PhaseProgress {
  const p = required(m, field);
  const out: PhaseProgress = {
    phase,
    tasksTotal: p.tasksTotal,
    tasksDone: int(p.tasksDone, `${field}.tasks_done`, 0, p.tasksTotal),
    tasksRunning: p.tasksRunning,
    bytesTotal: num64(p.bytesTotal, `${field}.bytes_total`),
    bytesDone: num64(p.bytesDone, `${field}.bytes_done`),
    records: num64(p.records, `${field}.records`),
  };
  const startedAt = optNum64(p.startedAtMs, `${field}.started_at_ms`);
  if (startedAt !== undefined) out.startedAt = startedAt;
  const finishedAt = optNum64(p.finishedAtMs, `${field}.finished_at_ms`);
  if (finishedAt !== undefined) out.finishedAt = finishedAt;
  return out;
}

export function progressToWire(p: ProgressSnapshot): pb.ProgressSnapshot {
  return create(ProgressSnapshotSchema, {
    jobId: p.jobId,
    nowMs: big(p.now, 'ProgressSnapshot.now_ms'),
    startedAtMs: big(p.startedAt, 'ProgressSnapshot.started_at_ms'),
    sample: p.phases.sample && phaseToWire(p.phases.sample),
    map: phaseToWire(p.phases.map),
    reduce: phaseToWire(p.phases.reduce),
    failedAttempts: p.failedAttempts,
    stalled: p.stalled.map((a) => ({
      attemptId: a.attemptId,
      worker: a.worker,
      idleMs: big(a.idleMs, 'StalledAttempt.idle_ms'),
    })),
    taskTimeoutMs: big(p.taskTimeoutMs, 'ProgressSnapshot.task_timeout_ms'),
  });
}

function stalledFromWire(a: pb.StalledAttempt, field: string): StalledAttempt {
  return {
    attemptId: attemptIdStr(a.attemptId, `${field}.attempt_id`),
    worker: str(a.worker, `${field}.worker`, { max: wireLimits.name, empty: true }),
    idleMs: num64(a.idleMs, `${field}.idle_ms`),
  };
}

/** @throws TsmrError `TSMR_BAD_MESSAGE` naming the first field that breaks its rule. */
export function progressFromWire(
  m: pb.ProgressSnapshot | undefined,
  field = 'ProgressSnapshot',
): ProgressSnapshot {
  const p = required(m, field);
  const phases: ProgressSnapshot['phases'] = {
    map: phaseFromWire(p.map, 'map', `${field}.map`),
    reduce: phaseFromWire(p.reduce, 'reduce', `${field}.reduce`),
  };
  if (p.sample !== undefined) phases.sample = phaseFromWire(p.sample, 'sample', `${field}.sample`);
  return {
    jobId: jobIdStr(p.jobId, `${field}.job_id`),
    now: num64(p.nowMs, `${field}.now_ms`),
    startedAt: num64(p.startedAtMs, `${field}.started_at_ms`),
    phases,
    failedAttempts: p.failedAttempts,
    stalled: list(p.stalled, `${field}.stalled`, MAX_STALLED).map((a, i) =>
      stalledFromWire(a, `${field}.stalled[${i}]`),
    ),
    taskTimeoutMs: num64(p.taskTimeoutMs, `${field}.task_timeout_ms`),
  };
}
