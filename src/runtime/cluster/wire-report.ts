/**
 * What `ClientService` answers about jobs (`client_service.proto`): progress
 * snapshots and the job report (`src/engine/job-report.ts`), converted both
 * ways; reading checks every field (`TSMR_BAD_MESSAGE`).
 */
import { create } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { MAX_LISTED_SKIPPED_INPUTS } from '../../engine/job-report.ts';
import type {
  AttemptRecord,
  JobReport,
  PhaseName,
  PhaseProgress,
  PhaseReport,
  ProgressSnapshot,
  SkippedInputsReport,
  StalledAttempt,
} from '../../engine/job-report.ts';
import {
  AttemptStatus,
  JobReportSchema,
  JobState,
  ProgressSnapshotSchema,
  SkipReason,
} from './gen/tsmr/cluster/v1/client_service_pb.js';
import type * as pb from './gen/tsmr/cluster/v1/client_service_pb.js';
import {
  absPath,
  attemptIdStr,
  big,
  enumCodec,
  int,
  int64,
  jobIdStr,
  list,
  num64,
  real,
  required,
  str,
  taskIdStr,
  wireLimits,
} from './wire-check.ts';
import { errorFromWire, errorToWire, paramsFromWire, paramsToWire } from './wire-common.ts';

/** Most attempts listed in one report (about 100 bytes each within the 16 MiB answer limit). */
const MAX_ATTEMPTS = 100_000;
/** Most part files listed in one report. */
const MAX_OUTPUT_FILES = 100_000;
/** Most stalled attempts listed in one snapshot (at most one per running attempt). */
const MAX_STALLED = 100_000;

export const jobStates = enumCodec({
  queued: JobState.QUEUED,
  running: JobState.RUNNING,
  succeeded: JobState.SUCCEEDED,
  failed: JobState.FAILED,
  cancelled: JobState.CANCELLED,
});
const reportStatus = enumCodec({
  succeeded: JobState.SUCCEEDED,
  failed: JobState.FAILED,
  cancelled: JobState.CANCELLED,
});
const skipReasons = enumCodec({
  fifo: SkipReason.FIFO,
  socket: SkipReason.SOCKET,
  device: SkipReason.DEVICE,
  other: SkipReason.OTHER,
  'dangling symlink': SkipReason.DANGLING_SYMLINK,
  'symlink loop': SkipReason.SYMLINK_LOOP,
  vanished: SkipReason.VANISHED,
});
const attemptStatus = enumCodec({
  running: AttemptStatus.RUNNING,
  succeeded: AttemptStatus.SUCCEEDED,
  failed: AttemptStatus.FAILED,
  killed: AttemptStatus.KILLED,
  committed: AttemptStatus.COMMITTED,
  duplicate: AttemptStatus.DUPLICATE,
});

// --- progress ---------------------------------------------------------------

function phaseToWire(p: PhaseProgress): MessageInitShape<typeof pb.PhaseProgressSchema> {
  return {
    tasksTotal: p.tasksTotal,
    tasksDone: p.tasksDone,
    tasksRunning: p.tasksRunning,
    bytesTotal: big(p.bytesTotal, 'PhaseProgress.bytes_total'),
    bytesDone: big(p.bytesDone, 'PhaseProgress.bytes_done'),
    records: big(p.records, 'PhaseProgress.records'),
    startedAtMs: p.startedAt === undefined ? undefined : big(p.startedAt, 'PhaseProgress.started_at_ms'),
    finishedAtMs: p.finishedAt === undefined ? undefined : big(p.finishedAt, 'PhaseProgress.finished_at_ms'),
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
  if (p.startedAtMs !== undefined) out.startedAt = num64(p.startedAtMs, `${field}.started_at_ms`);
  if (p.finishedAtMs !== undefined) out.finishedAt = num64(p.finishedAtMs, `${field}.finished_at_ms`);
  return out;
}

export function progressToWire(p: ProgressSnapshot): pb.ProgressSnapshot {
  return create(ProgressSnapshotSchema, {
    jobId: p.jobId,
    nowMs: big(p.now, 'ProgressSnapshot.now_ms'),
    startedAtMs: big(p.startedAt, 'ProgressSnapshot.started_at_ms'),
    map: phaseToWire(p.phases.map),
    reduce: phaseToWire(p.phases.reduce),
    failedAttempts: p.failedAttempts,
    stalled: p.stalled.map((a) => ({
      attemptId: a.attemptId,
      worker: a.worker,
      idleMs: big(a.idleMs, 'StalledAttempt.idle_ms'),
    })),
    taskTimeoutMs: p.taskTimeoutMs,
  });
}

function stalledFromWire(a: pb.StalledAttempt, field: string): StalledAttempt {
  return {
    attemptId: attemptIdStr(a.attemptId, `${field}.attempt_id`),
    worker: str(a.worker, `${field}.worker`, { max: wireLimits.name, empty: true }),
    idleMs: num64(a.idleMs, `${field}.idle_ms`),
  };
}

export function progressFromWire(
  m: pb.ProgressSnapshot | undefined,
  field = 'ProgressSnapshot',
): ProgressSnapshot {
  const p = required(m, field);
  return {
    jobId: jobIdStr(p.jobId, `${field}.job_id`),
    now: num64(p.nowMs, `${field}.now_ms`),
    startedAt: num64(p.startedAtMs, `${field}.started_at_ms`),
    phases: {
      map: phaseFromWire(p.map, 'map', `${field}.map`),
      reduce: phaseFromWire(p.reduce, 'reduce', `${field}.reduce`),
    },
    failedAttempts: p.failedAttempts,
    stalled: list(p.stalled, `${field}.stalled`, MAX_STALLED).map((a, i) =>
      stalledFromWire(a, `${field}.stalled[${i}]`),
    ),
    taskTimeoutMs: p.taskTimeoutMs,
  };
}

// --- report -----------------------------------------------------------------

function phaseReportToWire(
  p: PhaseReport | undefined,
): MessageInitShape<typeof pb.PhaseReportSchema> | undefined {
  if (p === undefined) return undefined;
  const f = 'PhaseReport';
  return {
    tasks: p.tasks,
    startedAtMs: big(p.startedAt, `${f}.started_at_ms`),
    finishedAtMs: big(p.finishedAt, `${f}.finished_at_ms`),
    durationMs: big(p.durationMs, `${f}.duration_ms`),
    inputBytes: big(p.inputBytes, `${f}.input_bytes`),
    inputRecords: big(p.inputRecords, `${f}.input_records`),
    outputRecords: big(p.outputRecords, `${f}.output_records`),
    throughputMbps: p.throughputMBps,
  };
}

function phaseReportFromWire(m: pb.PhaseReport, field: string): PhaseReport {
  return {
    tasks: m.tasks,
    startedAt: num64(m.startedAtMs, `${field}.started_at_ms`),
    finishedAt: num64(m.finishedAtMs, `${field}.finished_at_ms`),
    durationMs: num64(m.durationMs, `${field}.duration_ms`),
    inputBytes: num64(m.inputBytes, `${field}.input_bytes`),
    inputRecords: num64(m.inputRecords, `${field}.input_records`),
    outputRecords: num64(m.outputRecords, `${field}.output_records`),
    throughputMBps: real(m.throughputMbps, `${field}.throughput_mbps`, 0, Number.MAX_VALUE),
  };
}

export function reportToWire(r: JobReport): pb.JobReport {
  const s = r.settings;
  return create(JobReportSchema, {
    jobId: r.jobId,
    name: r.name,
    status: reportStatus.toWire(r.status),
    startedAtMs: big(r.startedAt, 'JobReport.started_at_ms'),
    finishedAtMs: big(r.finishedAt, 'JobReport.finished_at_ms'),
    durationMs: big(r.durationMs, 'JobReport.duration_ms'),
    settings: {
      inputs: s.inputs,
      output: s.output,
      workers: s.workers,
      reducers: s.reducers,
      splitSize: big(s.splitSize, 'ReportSettings.split_size'),
      sortBufferBytes: big(s.sortBufferBytes, 'ReportSettings.sort_buffer_bytes'),
      mergeFanIn: s.mergeFanIn,
      maxAttempts: s.maxAttempts,
      taskTimeoutMs: s.taskTimeoutMs,
      simulateFailures: s.simulateFailures,
      seed: s.seed === undefined ? undefined : big(s.seed, 'ReportSettings.seed'),
      params: paramsToWire(s.params),
    },
    map: phaseReportToWire(r.phases.map),
    reduce: phaseReportToWire(r.phases.reduce),
    counters: Object.fromEntries(
      Object.entries(r.counters).map(([k, v]) => [k, big(v, `counter ${k}`, true)]),
    ),
    attempts: r.attempts.map((a) => ({
      taskId: a.taskId,
      attempt: a.attempt,
      worker: a.worker,
      startedAtMs: big(a.startedAt, 'AttemptRecord.started_at_ms'),
      finishedAtMs:
        a.finishedAt === undefined ? undefined : big(a.finishedAt, 'AttemptRecord.finished_at_ms'),
      status: attemptStatus.toWire(a.status),
      error: a.error && errorToWire(a.error),
    })),
    duplicateCompletions: big(r.duplicateCompletions, 'JobReport.duplicate_completions'),
    outputFiles: r.outputFiles,
    outputBytes: big(r.outputBytes, 'JobReport.output_bytes'),
    outputRecords: big(r.outputRecords, 'JobReport.output_records'),
    peakRssBytes: big(r.peakRssBytes, 'JobReport.peak_rss_bytes'),
    validation: {
      inputBytesMatch: r.validation.inputBytesMatch,
      shuffleRecordsMatch: r.validation.shuffleRecordsMatch,
      checksumsVerified: big(r.validation.checksumsVerified, 'ValidationReport.checksums_verified'),
      verifiedAgainstSequential: r.validation.verifiedAgainstSequential,
    },
    error: r.error && errorToWire(r.error),
    inputsSkipped: r.inputsSkipped && {
      count: big(r.inputsSkipped.count, 'InputsSkipped.count'),
      listed: r.inputsSkipped.listed.map((e) => ({ path: e.path, reason: skipReasons.toWire(e.reason) })),
    },
  });
}

function skippedFromWire(m: pb.InputsSkipped, field: string): SkippedInputsReport {
  return {
    count: num64(m.count, `${field}.count`, 1),
    listed: list(m.listed, `${field}.listed`, MAX_LISTED_SKIPPED_INPUTS).map((e, i) => ({
      path: absPath(e.path, `${field}.listed[${i}].path`),
      reason: skipReasons.fromWire(e.reason, `${field}.listed[${i}].reason`),
    })),
  };
}

/** @throws TsmrError `TSMR_BAD_MESSAGE` naming the first field that breaks its rule. */
export function reportFromWire(m: pb.JobReport | undefined, field = 'JobReport'): JobReport {
  const r = required(m, field);
  const s = required(r.settings, `${field}.settings`);
  const fs = `${field}.settings`;
  const v = required(r.validation, `${field}.validation`);
  const settings: JobReport['settings'] = {
    inputs: list(s.inputs, `${fs}.inputs`, 100_000).map((p, i) =>
      str(p, `${fs}.inputs[${i}]`, { max: wireLimits.path }),
    ),
    workers: s.workers,
    reducers: s.reducers,
    splitSize: num64(s.splitSize, `${fs}.split_size`),
    sortBufferBytes: num64(s.sortBufferBytes, `${fs}.sort_buffer_bytes`),
    mergeFanIn: s.mergeFanIn,
    maxAttempts: s.maxAttempts,
    taskTimeoutMs: s.taskTimeoutMs,
    params: paramsFromWire(s.params, `${fs}.params`),
  };
  if (s.output !== undefined) settings.output = str(s.output, `${fs}.output`, { max: wireLimits.path });
  if (s.simulateFailures !== undefined)
    settings.simulateFailures = real(s.simulateFailures, `${fs}.simulate_failures`, 0, 1);
  if (s.seed !== undefined) settings.seed = num64(s.seed, `${fs}.seed`);
  const names = list(Object.keys(r.counters), `${field}.counters`, wireLimits.counters);
  const report: JobReport = {
    jobId: jobIdStr(r.jobId, `${field}.job_id`),
    name: str(r.name, `${field}.name`, { max: 256, empty: true }),
    status: reportStatus.fromWire(r.status, `${field}.status`),
    startedAt: num64(r.startedAtMs, `${field}.started_at_ms`),
    finishedAt: num64(r.finishedAtMs, `${field}.finished_at_ms`),
    durationMs: num64(r.durationMs, `${field}.duration_ms`),
    settings,
    phases: {},
    counters: Object.fromEntries(
      names.map((k) => [k, int64(r.counters[k], `${field}.counters[${JSON.stringify(k.slice(0, 40))}]`)]),
    ),
    attempts: list(r.attempts, `${field}.attempts`, MAX_ATTEMPTS).map((a, i) =>
      attemptFromWire(a, `${field}.attempts[${i}]`),
    ),
    duplicateCompletions: num64(r.duplicateCompletions, `${field}.duplicate_completions`),
    outputFiles: list(r.outputFiles, `${field}.output_files`, MAX_OUTPUT_FILES).map((p, i) =>
      absPath(p, `${field}.output_files[${i}]`),
    ),
    outputBytes: num64(r.outputBytes, `${field}.output_bytes`),
    outputRecords: num64(r.outputRecords, `${field}.output_records`),
    peakRssBytes: num64(r.peakRssBytes, `${field}.peak_rss_bytes`),
    validation: {
      inputBytesMatch: v.inputBytesMatch,
      shuffleRecordsMatch: v.shuffleRecordsMatch,
      checksumsVerified: num64(v.checksumsVerified, `${field}.validation.checksums_verified`),
    },
  };
  if (v.verifiedAgainstSequential !== undefined)
    report.validation.verifiedAgainstSequential = v.verifiedAgainstSequential;
  if (r.map !== undefined) report.phases.map = phaseReportFromWire(r.map, `${field}.map`);
  if (r.reduce !== undefined) report.phases.reduce = phaseReportFromWire(r.reduce, `${field}.reduce`);
  if (r.error !== undefined) report.error = errorFromWire(r.error, `${field}.error`);
  if (r.inputsSkipped !== undefined)
    report.inputsSkipped = skippedFromWire(r.inputsSkipped, `${field}.inputs_skipped`);
  return report;
}

function attemptFromWire(a: pb.AttemptRecord, field: string): AttemptRecord {
  const out: AttemptRecord = {
    taskId: taskIdStr(a.taskId, `${field}.task_id`),
    attempt: a.attempt,
    worker: str(a.worker, `${field}.worker`, { max: wireLimits.name, empty: true }),
    startedAt: num64(a.startedAtMs, `${field}.started_at_ms`),
    status: attemptStatus.fromWire(a.status, `${field}.status`),
  };
  if (a.finishedAtMs !== undefined) out.finishedAt = num64(a.finishedAtMs, `${field}.finished_at_ms`);
  if (a.error !== undefined) out.error = errorFromWire(a.error, `${field}.error`);
  return out;
}
