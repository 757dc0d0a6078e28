/**
 * The job report (`JobReport` of `client_service.proto`, of
 * `src/engine/job-report.ts`: what `_job.json` holds) and the settings and
 * attempt records it shares with a job's start and attempt events, converted
 * both ways; reading checks every field (`TSMR_BAD_MESSAGE`).
 */
import { create } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { MAX_LISTED_SKIPPED_INPUTS, MAX_LISTED_SKIPPED_RECORDS } from '../../engine/job-report.ts';
import type {
  AttemptRecord,
  JobReport,
  JobSettingsReport,
  PhaseReport,
  SkippedInputsReport,
  SkippedRecordsReport,
  TotalOrderReport,
} from '../../engine/job-report.ts';
import type { WorkerReport } from '../../engine/worker-report.ts';
import {
  AttemptStatus,
  JobReportSchema,
  JobState,
  Sampler,
  SkipReason,
} from './gen/tsmr/cluster/v1/client_service_pb.js';
import type * as pb from './gen/tsmr/cluster/v1/client_service_pb.js';
import {
  absPath,
  badMessage,
  big,
  enumCodec,
  int,
  int64,
  jobIdStr,
  list,
  num64,
  optBig,
  optNum64,
  real,
  required,
  str,
  taskIdStr,
  unique,
  wireLimits,
  workerIdStr,
} from './wire-check.ts';
import {
  badRecordFromWire,
  badRecordToWire,
  errorFromWire,
  errorToWire,
  paramsFromWire,
  paramsToWire,
} from './wire-common.ts';

/** Most attempts listed in one report (about 100 bytes each within the 16 MiB answer limit). */
export const MAX_ATTEMPTS = 100_000;
/** Most workers listed in a report or a job's start. */
export const MAX_WORKERS = 10_000;
/** Most part files listed in one report. */
const MAX_OUTPUT_FILES = 100_000;
/** Most inputs listed in a job's settings. */
const MAX_INPUTS = 100_000;

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
const samplers = enumCodec({ random: Sampler.RANDOM, split: Sampler.SPLIT });

// --- settings ---------------------------------------------------------------

export function settingsToWire(s: JobSettingsReport): MessageInitShape<typeof pb.JobSettingsReportSchema> {
  const f = 'JobSettingsReport';
  return {
    inputs: s.inputs,
    output: s.output,
    workers: s.workers,
    reducers: s.reducers,
    splitSize: big(s.splitSize, `${f}.split_size`),
    sortBufferBytes: big(s.sortBufferBytes, `${f}.sort_buffer_bytes`),
    mergeFanIn: s.mergeFanIn,
    maxAttempts: s.maxAttempts,
    taskTimeoutMs: big(s.taskTimeoutMs, `${f}.task_timeout_ms`),
    simulateFailures: s.simulateFailures,
    seed: optBig(s.seed, `${f}.seed`),
    skipBadRecords: optBig(s.skipBadRecords, `${f}.skip_bad_records`),
    params: paramsToWire(s.params),
  };
}

/** @throws TsmrError `TSMR_BAD_MESSAGE` naming the first field that breaks its rule. */
export function settingsFromWire(m: pb.JobSettingsReport | undefined, field: string): JobSettingsReport {
  const s = required(m, field);
  const settings: JobSettingsReport = {
    inputs: list(s.inputs, `${field}.inputs`, MAX_INPUTS).map((p, i) =>
      str(p, `${field}.inputs[${i}]`, { max: wireLimits.path }),
    ),
    workers: s.workers,
    reducers: int(s.reducers, `${field}.reducers`, 1, wireLimits.reducers),
    splitSize: num64(s.splitSize, `${field}.split_size`, 1),
    sortBufferBytes: num64(s.sortBufferBytes, `${field}.sort_buffer_bytes`, 1024),
    mergeFanIn: int(s.mergeFanIn, `${field}.merge_fan_in`, 2, 0xffffffff),
    maxAttempts: int(s.maxAttempts, `${field}.max_attempts`, 1, 0xffffffff),
    taskTimeoutMs: num64(s.taskTimeoutMs, `${field}.task_timeout_ms`),
    params: paramsFromWire(s.params, `${field}.params`),
  };
  if (s.output !== undefined) settings.output = str(s.output, `${field}.output`, { max: wireLimits.path });
  if (s.simulateFailures !== undefined)
    settings.simulateFailures = real(s.simulateFailures, `${field}.simulate_failures`, 0, 1);
  const seed = optNum64(s.seed, `${field}.seed`);
  if (seed !== undefined) settings.seed = seed;
  const skipBadRecords = optNum64(s.skipBadRecords, `${field}.skip_bad_records`, 1);
  if (skipBadRecords !== undefined) settings.skipBadRecords = skipBadRecords;
  return settings;
}

// --- attempts ---------------------------------------------------------------

export function attemptToWire(a: AttemptRecord): MessageInitShape<typeof pb.AttemptRecordSchema> {
  const f = 'AttemptRecord';
  return {
    taskId: a.taskId,
    attempt: a.attempt,
    worker: a.worker,
    startedAtMs: big(a.startedAt, `${f}.started_at_ms`),
    finishedAtMs: optBig(a.finishedAt, `${f}.finished_at_ms`),
    status: attemptStatus.toWire(a.status),
    error: a.error && errorToWire(a.error),
    inputBytes: optBig(a.inputBytes, `${f}.input_bytes`),
    inputRecords: optBig(a.inputRecords, `${f}.input_records`),
    outputBytes: optBig(a.outputBytes, `${f}.output_bytes`),
    outputRecords: optBig(a.outputRecords, `${f}.output_records`),
  };
}

/** @throws TsmrError `TSMR_BAD_MESSAGE` naming the first field that breaks its rule. */
export function attemptFromWire(m: pb.AttemptRecord | undefined, field: string): AttemptRecord {
  const a = required(m, field);
  const out: AttemptRecord = {
    taskId: taskIdStr(a.taskId, `${field}.task_id`),
    attempt: a.attempt,
    worker: str(a.worker, `${field}.worker`, { max: wireLimits.name, empty: true }),
    startedAt: num64(a.startedAtMs, `${field}.started_at_ms`),
    status: attemptStatus.fromWire(a.status, `${field}.status`),
  };
  const finishedAt = optNum64(a.finishedAtMs, `${field}.finished_at_ms`);
  if (finishedAt !== undefined) out.finishedAt = finishedAt;
  if (a.error !== undefined) out.error = errorFromWire(a.error, `${field}.error`);
  const io = {
    inputBytes: optNum64(a.inputBytes, `${field}.input_bytes`),
    inputRecords: optNum64(a.inputRecords, `${field}.input_records`),
    outputBytes: optNum64(a.outputBytes, `${field}.output_bytes`),
    outputRecords: optNum64(a.outputRecords, `${field}.output_records`),
  };
  for (const [k, v] of Object.entries(io)) if (v !== undefined) out[k as keyof typeof io] = v;
  return out;
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

function workerReportToWire(w: WorkerReport): MessageInitShape<typeof pb.WorkerReportSchema> {
  const f = 'WorkerReport';
  return {
    workerId: w.workerId,
    slots: w.slots,
    tasks: w.tasks,
    attempts: w.attempts,
    failedAttempts: w.failedAttempts,
    killedAttempts: w.killedAttempts,
    busyMs: big(w.busyMs, `${f}.busy_ms`),
    records: big(w.records, `${f}.records`),
    bytes: big(w.bytes, `${f}.bytes`),
  };
}

function workerReportFromWire(w: pb.WorkerReport, field: string): WorkerReport {
  const attempts = int(w.attempts, `${field}.attempts`, 0, MAX_ATTEMPTS);
  const failedAttempts = int(w.failedAttempts, `${field}.failed_attempts`, 0, attempts);
  return {
    workerId: workerIdStr(w.workerId, `${field}.worker_id`),
    slots: w.slots,
    tasks: int(w.tasks, `${field}.tasks`, 0, attempts),
    attempts,
    failedAttempts,
    killedAttempts: int(w.killedAttempts, `${field}.killed_attempts`, 0, attempts - failedAttempts),
    busyMs: num64(w.busyMs, `${field}.busy_ms`),
    records: num64(w.records, `${field}.records`),
    bytes: num64(w.bytes, `${field}.bytes`),
  };
}

function totalOrderFromWire(m: pb.TotalOrderReport, field: string, reducers: number): TotalOrderReport {
  const samples = num64(m.samples, `${field}.samples`, 1);
  const sampledKeys = num64(m.sampledKeys, `${field}.sampled_keys`);
  if (sampledKeys > samples)
    throw badMessage(`${field}.sampled_keys`, `is ${sampledKeys}, more than samples (${samples})`);
  return {
    sampler: samplers.fromWire(m.sampler, `${field}.sampler`),
    samples,
    sampledKeys,
    splitsSampled: m.splitsSampled,
    splitPoints: int(m.splitPoints, `${field}.split_points`, 0, reducers - 1),
  };
}

function skippedInputsFromWire(m: pb.InputsSkipped, field: string): SkippedInputsReport {
  const count = num64(m.count, `${field}.count`, 1);
  return {
    count,
    listed: list(m.listed, `${field}.listed`, Math.min(count, MAX_LISTED_SKIPPED_INPUTS)).map((e, i) => ({
      path: absPath(e.path, `${field}.listed[${i}].path`),
      reason: skipReasons.fromWire(e.reason, `${field}.listed[${i}].reason`),
    })),
  };
}

function skippedRecordsFromWire(m: pb.SkippedRecordsReport, field: string): SkippedRecordsReport {
  const max = num64(m.max, `${field}.max`, 1);
  const count = num64(m.count, `${field}.count`, 1);
  if (count > max) throw badMessage(`${field}.count`, `is ${count}, more than max (${max})`);
  return {
    count,
    max,
    listed: list(m.listed, `${field}.listed`, Math.min(count, MAX_LISTED_SKIPPED_RECORDS)).map((e, i) => ({
      taskId: taskIdStr(e.taskId, `${field}.listed[${i}].task_id`, 'map'),
      ...badRecordFromWire(e.record, `${field}.listed[${i}].record`),
    })),
  };
}

export function reportToWire(r: JobReport): pb.JobReport {
  const f = 'JobReport';
  return create(JobReportSchema, {
    jobId: r.jobId,
    name: r.name,
    status: reportStatus.toWire(r.status),
    startedAtMs: big(r.startedAt, `${f}.started_at_ms`),
    finishedAtMs: big(r.finishedAt, `${f}.finished_at_ms`),
    durationMs: big(r.durationMs, `${f}.duration_ms`),
    settings: settingsToWire(r.settings),
    sample: phaseReportToWire(r.phases.sample),
    map: phaseReportToWire(r.phases.map),
    reduce: phaseReportToWire(r.phases.reduce),
    totalOrder: r.totalOrder && {
      sampler: samplers.toWire(r.totalOrder.sampler),
      samples: big(r.totalOrder.samples, 'TotalOrderReport.samples'),
      sampledKeys: big(r.totalOrder.sampledKeys, 'TotalOrderReport.sampled_keys'),
      splitsSampled: r.totalOrder.splitsSampled,
      splitPoints: r.totalOrder.splitPoints,
    },
    counters: Object.fromEntries(
      Object.entries(r.counters).map(([k, v]) => [k, big(v, `counter ${k}`, true)]),
    ),
    attempts: r.attempts.map(attemptToWire),
    workers: r.workers.map(workerReportToWire),
    duplicateCompletions: big(r.duplicateCompletions, `${f}.duplicate_completions`),
    outputFiles: r.outputFiles,
    outputBytes: big(r.outputBytes, `${f}.output_bytes`),
    outputRecords: big(r.outputRecords, `${f}.output_records`),
    peakRssBytes: big(r.peakRssBytes, `${f}.peak_rss_bytes`),
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
    skippedRecords: r.skippedRecords && {
      count: big(r.skippedRecords.count, 'SkippedRecordsReport.count'),
      max: big(r.skippedRecords.max, 'SkippedRecordsReport.max'),
      listed: r.skippedRecords.listed.map(({ taskId, ...record }) => ({
        taskId,
        record: badRecordToWire(record),
      })),
    },
  });
}

/** @throws TsmrError `TSMR_BAD_MESSAGE` naming the first field that breaks its rule. */
export function reportFromWire(m: pb.JobReport | undefined, field = 'JobReport'): JobReport {
  const r = required(m, field);
  const v = required(r.validation, `${field}.validation`);
  const settings = settingsFromWire(r.settings, `${field}.settings`);
  const names = list(Object.keys(r.counters), `${field}.counters`, wireLimits.counters);
  const workers = list(r.workers, `${field}.workers`, MAX_WORKERS).map((w, i) =>
    workerReportFromWire(w, `${field}.workers[${i}]`),
  );
  unique(workers, (w) => w.workerId, `${field}.workers`, 'worker_id');
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
    workers,
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
  if (r.sample !== undefined) report.phases.sample = phaseReportFromWire(r.sample, `${field}.sample`);
  if (r.map !== undefined) report.phases.map = phaseReportFromWire(r.map, `${field}.map`);
  if (r.reduce !== undefined) report.phases.reduce = phaseReportFromWire(r.reduce, `${field}.reduce`);
  if (r.totalOrder !== undefined)
    report.totalOrder = totalOrderFromWire(r.totalOrder, `${field}.total_order`, settings.reducers);
  if (r.error !== undefined) report.error = errorFromWire(r.error, `${field}.error`);
  if (r.inputsSkipped !== undefined)
    report.inputsSkipped = skippedInputsFromWire(r.inputsSkipped, `${field}.inputs_skipped`);
  if (r.skippedRecords !== undefined)
    report.skippedRecords = skippedRecordsFromWire(r.skippedRecords, `${field}.skipped_records`);
  return report;
}
