/**
 * The events of a watched job (`WatchJobResponse` of `client_service.proto`):
 * what a job handle emits (`started`, `progress`, `attempt`) and its report,
 * so that a cluster client shows what `tsmr run` shows (progress, dashboard,
 * worker monitoring). Converted both ways; reading checks every field
 * (`TSMR_BAD_MESSAGE`).
 */
import { create } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { JobReport, JobStart, ProgressSnapshot } from '../../engine/job-report.ts';
import { attemptIdOf, attemptReportStatus, parseAttemptId } from '../../engine/scheduler-types.ts';
import type { AttemptHistoryEntry, AttemptState } from '../../engine/scheduler-types.ts';
import {
  AttemptState as AttemptStatePb,
  WatchJobResponseSchema,
} from './gen/tsmr/cluster/v1/client_service_pb.js';
import type * as pb from './gen/tsmr/cluster/v1/client_service_pb.js';
import {
  badMessage,
  big,
  enumCodec,
  int,
  jobIdStr,
  list,
  noCase,
  num64,
  optStr,
  required,
  str,
  unique,
  wireLimits,
  workerIdStr,
} from './wire-check.ts';
import { progressFromWire, progressToWire } from './wire-progress.ts';
import {
  MAX_WORKERS,
  attemptFromWire,
  attemptToWire,
  reportFromWire,
  reportToWire,
  settingsFromWire,
  settingsToWire,
} from './wire-report.ts';

/** One event of a watched job, in the order of the stream (see `WatchJobResponse`). */
export type JobEvent =
  | { type: 'started'; start: JobStart }
  | { type: 'progress'; snapshot: ProgressSnapshot }
  | { type: 'attempt'; attempt: AttemptHistoryEntry }
  | { type: 'report'; report: JobReport };

const attemptStates = enumCodec<AttemptState>({
  running: AttemptStatePb.RUNNING,
  succeeded: AttemptStatePb.SUCCEEDED,
  committing: AttemptStatePb.COMMITTING,
  committed: AttemptStatePb.COMMITTED,
  failed: AttemptStatePb.FAILED,
  killed: AttemptStatePb.KILLED,
  duplicate: AttemptStatePb.DUPLICATE,
  lost: AttemptStatePb.LOST,
});

export function jobEventToWire(e: JobEvent): pb.WatchJobResponse {
  return create(WatchJobResponseSchema, { event: eventToWire(e) });
}

function eventToWire(e: JobEvent): MessageInitShape<typeof WatchJobResponseSchema>['event'] {
  switch (e.type) {
    case 'progress':
      return { case: 'progress', value: progressToWire(e.snapshot) };
    case 'report':
      return { case: 'report', value: reportToWire(e.report) };
    case 'started': {
      const s = e.start;
      const value = {
        jobId: s.jobId,
        name: s.name,
        startedAtMs: big(s.startedAt, 'JobStart.started_at_ms'),
        settings: settingsToWire(s.settings),
        mapTasks: s.tasks.map,
        reduceTasks: s.tasks.reduce,
        workers: s.workers.map((w) => ({ workerId: w.id, slots: w.slots })),
      };
      return { case: 'started', value };
    }
    case 'attempt': {
      const a = e.attempt;
      const value = {
        record: attemptToWire(a),
        speculative: a.speculative,
        state: attemptStates.toWire(a.state),
        reason: a.reason,
      };
      return { case: 'attempt', value };
    }
  }
}

/** @throws TsmrError `TSMR_BAD_MESSAGE` naming the first field that breaks its rule. */
export function jobEventFromWire(m: pb.WatchJobResponse | undefined, field = 'WatchJobResponse'): JobEvent {
  const { event } = required(m, field);
  switch (event.case) {
    case 'progress':
      return { type: 'progress', snapshot: progressFromWire(event.value, `${field}.progress`) };
    case 'report':
      return { type: 'report', report: reportFromWire(event.value, `${field}.report`) };
    case 'started':
      return { type: 'started', start: startFromWire(event.value, `${field}.started`) };
    case 'attempt':
      return { type: 'attempt', attempt: attemptEventFromWire(event.value, `${field}.attempt`) };
    default:
      throw noCase(field);
  }
}

function startFromWire(s: pb.JobStart, field: string): JobStart {
  const settings = settingsFromWire(s.settings, `${field}.settings`);
  const workers = list(s.workers, `${field}.workers`, MAX_WORKERS).map((w, i) => ({
    id: workerIdStr(w.workerId, `${field}.workers[${i}].worker_id`),
    slots: w.slots,
  }));
  unique(workers, (w) => w.id, `${field}.workers`, 'worker_id');
  return {
    jobId: jobIdStr(s.jobId, `${field}.job_id`),
    name: str(s.name, `${field}.name`, { max: 256, empty: true }),
    startedAt: num64(s.startedAtMs, `${field}.started_at_ms`),
    settings,
    tasks: {
      map: s.mapTasks,
      reduce: int(s.reduceTasks, `${field}.reduce_tasks`, settings.reducers, settings.reducers),
    },
    workers,
  };
}

function attemptEventFromWire(m: pb.AttemptEvent, field: string): AttemptHistoryEntry {
  const record = attemptFromWire(m.record, `${field}.record`);
  const state = attemptStates.fromWire(m.state, `${field}.state`);
  if (record.status !== attemptReportStatus[state]) {
    throw badMessage(
      `${field}.record.status`,
      `is ${record.status}, but an attempt in state ${state} is ${attemptReportStatus[state]}`,
    );
  }
  const attemptId = attemptIdOf(record.taskId, record.attempt);
  const { kind, index } = parseAttemptId(attemptId)!;
  const entry: AttemptHistoryEntry = { ...record, attemptId, kind, index, speculative: m.speculative, state };
  const reason = optStr(m.reason, `${field}.reason`, { max: wireLimits.short, empty: true });
  if (reason !== undefined) entry.reason = reason;
  return entry;
}
