import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { ErrorCode, isTsmrError } from '../../errors.ts';
import type {
  AttemptRecord,
  JobReport,
  JobSettingsReport,
  JobStart,
  PhaseName,
  PhaseProgress,
  PhaseReport,
  ProgressSnapshot,
  SkippedInputsReport,
  SkippedRecord,
  SkippedRecordsReport,
  StalledAttempt,
  TotalOrderReport,
  ValidationReport,
} from '../../engine/job-report.ts';
import { attemptIdOf, attemptReportStatus, parseAttemptId } from '../../engine/scheduler-types.ts';
import type { AttemptHistoryEntry, AttemptState } from '../../engine/scheduler-types.ts';
import type { WorkerReport } from '../../engine/worker-report.ts';
import {
  AttemptState as AttemptStatePb,
  AttemptStatus,
  GetStatusResponseSchema,
  JobReportSchema,
  JobState,
  ProgressSnapshotSchema,
  Sampler,
  SkipReason,
  SubmitJobRequestSchema,
  UploadBundleRequestSchema,
  WatchJobResponseSchema,
} from './gen/tsmr/cluster/v1/client_service_pb.js';
import { submissionFromWire, submissionToWire, uploadFromWire } from './wire-job.ts';
import type { JobSubmission } from './wire-job.ts';
import { progressFromWire, progressToWire } from './wire-progress.ts';
import { reportFromWire, reportToWire } from './wire-report.ts';
import { statusFromWire, statusToWire } from './wire-status.ts';
import type { ClusterStatus } from './wire-status.ts';
import { jobEventFromWire, jobEventToWire } from './wire-watch.ts';
import type { JobEvent } from './wire-watch.ts';
import {
  absPath,
  assertRoundTrips,
  attemptId,
  full,
  jobId,
  jobRef,
  name,
  params,
  refuses,
  serializedError,
  text,
} from './wire-test-support.ts';

const n = fc.nat({ max: 2 ** 45 });
const small = fc.nat({ max: 100_000 });
const counters = fc.dictionary(fc.string({ minLength: 1, maxLength: 16 }), fc.maxSafeInteger(), {
  maxKeys: 4,
});
/** A task timeout: none (`Infinity` in settings, 0 in reports) or ms. */
const taskTimeoutMs = fc.integer({ min: 1, max: 2 ** 45 });
const attemptStatuses = [
  ...(['running', 'succeeded', 'failed'] as const),
  ...(['killed', 'committed', 'duplicate'] as const),
] satisfies AttemptRecord['status'][];
const skipReasons = [
  ...(['fifo', 'socket', 'device', 'other'] as const),
  ...(['dangling symlink', 'symlink loop', 'vanished'] as const),
] satisfies SkippedInputsReport['listed'][number]['reason'][];

const submission: fc.Arbitrary<JobSubmission> = fc.record({
  submissionId: name,
  job: jobRef,
  options: fc.record(
    {
      input: fc.array(absPath, { minLength: 1, maxLength: 4 }),
      output: absPath,
      overwrite: fc.boolean(),
      files: fc.array(
        fc.oneof(
          absPath,
          absPath.map((p) => `${p}#side.txt`),
        ),
        { minLength: 1, maxLength: 3 },
      ),
      totalOrder: fc.oneof(
        fc.constant(true as const),
        fc.record(
          {
            samples: fc.integer({ min: 1, max: 2 ** 40 }),
            sampler: fc.constantFrom('random' as const, 'split' as const),
            maxSplitsSampled: fc.integer({ min: 1, max: 1000 }),
          },
          { requiredKeys: ['samples'] },
        ),
      ),
      reducers: fc.integer({ min: 1, max: 1000 }),
      splitSize: fc.integer({ min: 1, max: 2 ** 40 }),
      sortBuffer: fc.integer({ min: 1024, max: 2 ** 40 }),
      mergeFanIn: fc.integer({ min: 2, max: 100 }),
      maxAttempts: fc.integer({ min: 1, max: 10 }),
      taskTimeout: fc.oneof(fc.constant(0), taskTimeoutMs),
      simulateFailures: fc.double({ min: 0, max: 1, noNaN: true }),
      seed: fc.maxSafeNat(),
      skipBadRecords: fc.maxSafeNat(),
      speculation: fc.boolean(),
      params: params.filter((p) => Object.keys(p).length > 0),
    },
    { requiredKeys: ['overwrite'] },
  ),
});

function phase(p: PhaseName): fc.Arbitrary<PhaseProgress> {
  return full<PhaseProgress>(
    {
      phase: fc.constant(p),
      tasksTotal: small,
      tasksDone: small,
      tasksRunning: small,
      bytesTotal: n,
      bytesDone: n,
      records: n,
      startedAt: n,
      finishedAt: n,
    },
    { startedAt: true, finishedAt: true },
  ).map((q) => ({ ...q, tasksDone: Math.min(q.tasksDone, q.tasksTotal) }));
}
const progress = full<ProgressSnapshot>(
  {
    jobId,
    now: n,
    startedAt: n,
    phases: full<ProgressSnapshot['phases']>(
      { sample: phase('sample'), map: phase('map'), reduce: phase('reduce') },
      { sample: true },
    ),
    failedAttempts: small,
    stalled: fc.array(full<StalledAttempt>({ attemptId, worker: name, idleMs: n }, {}), { maxLength: 4 }),
    taskTimeoutMs: fc.oneof(fc.constant(0), taskTimeoutMs),
  },
  {},
);

const phaseReport = full<PhaseReport>(
  {
    tasks: small,
    startedAt: n,
    finishedAt: n,
    durationMs: n,
    inputBytes: n,
    inputRecords: n,
    outputRecords: n,
    throughputMBps: fc.double({ min: 0, max: 1e6, noNaN: true }),
  },
  {},
);
const settings = full<JobSettingsReport>(
  {
    inputs: fc.array(absPath, { maxLength: 3 }),
    output: absPath,
    workers: small,
    reducers: fc.integer({ min: 1, max: 100_000 }),
    splitSize: fc.integer({ min: 1, max: 2 ** 45 }),
    sortBufferBytes: fc.integer({ min: 1024, max: 2 ** 45 }),
    mergeFanIn: fc.integer({ min: 2, max: 1000 }),
    maxAttempts: fc.integer({ min: 1, max: 1000 }),
    taskTimeoutMs: fc.oneof(fc.constant(0), taskTimeoutMs),
    simulateFailures: fc.double({ min: 0, max: 1, noNaN: true }),
    seed: fc.maxSafeNat(),
    skipBadRecords: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    params,
  },
  { output: true, simulateFailures: true, seed: true, skipBadRecords: true },
);
const taskId = fc
  .record({ kind: fc.constantFrom('m', 'r'), index: fc.nat({ max: 99_999 }) })
  .map(({ kind, index }) => `${kind}-${String(index).padStart(5, '0')}`);
const attemptRecord = full<AttemptRecord>(
  {
    taskId,
    attempt: fc.nat({ max: 9 }),
    worker: name,
    startedAt: n,
    finishedAt: n,
    status: fc.constantFrom(...attemptStatuses),
    error: serializedError,
    inputBytes: n,
    inputRecords: n,
    outputBytes: n,
    outputRecords: n,
  },
  {
    finishedAt: true,
    error: true,
    inputBytes: true,
    inputRecords: true,
    outputBytes: true,
    outputRecords: true,
  },
);
const count = fc.nat({ max: 1000 });
const worker = full<WorkerReport>(
  {
    workerId: name,
    slots: small,
    tasks: count,
    attempts: count,
    failedAttempts: count,
    killedAttempts: count,
    busyMs: n,
    records: n,
    bytes: n,
  },
  {},
).map((w) => {
  // tasks <= attempts, failed + killed <= attempts
  const attempts = Math.max(w.attempts, w.tasks, w.failedAttempts + w.killedAttempts);
  return { ...w, attempts };
});
const report = full<JobReport>(
  {
    jobId,
    name: text,
    status: fc.constantFrom('succeeded' as const, 'failed' as const, 'cancelled' as const),
    startedAt: n,
    finishedAt: n,
    durationMs: n,
    settings,
    inputsSkipped: full<SkippedInputsReport>(
      {
        count: fc.integer({ min: 1, max: 2 ** 40 }),
        listed: fc.array(
          full<SkippedInputsReport['listed'][number]>(
            { path: absPath, reason: fc.constantFrom(...skipReasons) },
            {},
          ),
          { maxLength: 4 },
        ),
      },
      {},
    ).map((r) => ({ ...r, count: Math.max(r.count, r.listed.length) })),
    skippedRecords: full<SkippedRecordsReport>(
      {
        count: fc.integer({ min: 1, max: 2 ** 40 }),
        max: fc.integer({ min: 1, max: 2 ** 40 }),
        listed: fc.array(
          full<SkippedRecord>(
            {
              taskId: fc.nat({ max: 99_999 }).map((i) => `m-${String(i).padStart(5, '0')}`),
              file: absPath,
              offset: n,
              index: n,
              error: full<SkippedRecord['error']>(
                { code: fc.constantFrom('TSMR_USER_CODE', 'TSMR_BAD_RECORD'), message: text },
                {},
              ),
            },
            { index: true },
          ),
          { maxLength: 4 },
        ),
      },
      {},
    ).map((r) => {
      const count = Math.max(r.count, r.listed.length);
      return { ...r, count, max: Math.max(r.max, count) };
    }),
    phases: full<JobReport['phases']>(
      { sample: phaseReport, map: phaseReport, reduce: phaseReport },
      { sample: true, map: true, reduce: true },
    ),
    totalOrder: full<TotalOrderReport>(
      {
        sampler: fc.constantFrom('random' as const, 'split' as const),
        samples: fc.integer({ min: 1, max: 2 ** 40 }),
        sampledKeys: n,
        splitsSampled: small,
        splitPoints: small,
      },
      {},
    ).map((t) => ({ ...t, sampledKeys: Math.min(t.sampledKeys, t.samples) })),
    counters,
    attempts: fc.array(attemptRecord, { maxLength: 4 }),
    workers: fc.uniqueArray(worker, { maxLength: 3, selector: (w) => w.workerId }),
    duplicateCompletions: small,
    outputFiles: fc.array(absPath, { maxLength: 3 }),
    outputBytes: n,
    outputRecords: n,
    peakRssBytes: n,
    validation: full<ValidationReport>(
      {
        inputBytesMatch: fc.boolean(),
        shuffleRecordsMatch: fc.boolean(),
        checksumsVerified: small,
        verifiedAgainstSequential: fc.boolean(),
      },
      { verifiedAgainstSequential: true },
    ),
    error: serializedError,
  },
  { inputsSkipped: true, skippedRecords: true, totalOrder: true, error: true },
).map((r) =>
  // At most R − 1 split points.
  r.totalOrder
    ? {
        ...r,
        totalOrder: {
          ...r.totalOrder,
          splitPoints: Math.min(r.totalOrder.splitPoints, r.settings.reducers - 1),
        },
      }
    : r,
);

const start = full<JobStart>(
  {
    jobId,
    name: text,
    startedAt: n,
    settings,
    tasks: full<JobStart['tasks']>({ map: small, reduce: small }, {}),
    workers: fc.uniqueArray(full<JobStart['workers'][number]>({ id: name, slots: small }, {}), {
      maxLength: 3,
      selector: (w) => w.id,
    }),
  },
  {},
).map((s) => ({ ...s, tasks: { ...s.tasks, reduce: s.settings.reducers } }));

const attemptStates = Object.keys(attemptReportStatus) as AttemptState[];
const attemptEntry = full<AttemptHistoryEntry>(
  {
    ...{ taskId, attempt: fc.nat({ max: 9 }), worker: name, startedAt: n, finishedAt: n },
    ...{ error: serializedError, inputBytes: n, inputRecords: n, outputBytes: n, outputRecords: n },
    // Derived from the others below.
    status: fc.constant('running'),
    attemptId: fc.constant(''),
    kind: fc.constant('map'),
    index: fc.constant(0),
    speculative: fc.boolean(),
    state: fc.constantFrom(...attemptStates),
    reason: text,
  },
  {
    finishedAt: true,
    error: true,
    inputBytes: true,
    inputRecords: true,
    outputBytes: true,
    outputRecords: true,
    reason: true,
  },
).map((a) => {
  const attemptId = attemptIdOf(a.taskId, a.attempt);
  const { kind, index } = parseAttemptId(attemptId)!;
  return { ...a, attemptId, kind, index, status: attemptReportStatus[a.state] };
});

const jobEvent: fc.Arbitrary<JobEvent> = fc.oneof(
  start.map((s) => ({ type: 'started' as const, start: s })),
  progress.map((snapshot) => ({ type: 'progress' as const, snapshot })),
  attemptEntry.map((attempt) => ({ type: 'attempt' as const, attempt })),
  report.map((r) => ({ type: 'report' as const, report: r })),
);

const status: fc.Arbitrary<ClusterStatus> = fc.record({
  jobs: fc.array(
    fc.record(
      {
        jobId,
        name: text,
        state: fc.constantFrom(
          'queued' as const,
          'running' as const,
          'succeeded' as const,
          'failed' as const,
          'cancelled' as const,
        ),
        submittedAt: n,
        progress,
        error: serializedError,
        counters,
        failures: fc.array(fc.record({ attemptId, worker: name, failedAt: n, error: serializedError }), {
          maxLength: 3,
        }),
      },
      { requiredKeys: ['jobId', 'name', 'state', 'submittedAt', 'counters', 'failures'] },
    ),
    { maxLength: 3 },
  ),
  workers: fc.array(
    fc.record(
      {
        workerId: name,
        incarnation: fc.integer({ min: 1, max: 1000 }),
        state: fc.constantFrom('alive' as const, 'suspect' as const, 'dead' as const, 'excluded' as const),
        hostName: name,
        pid: fc.nat({ max: 4_000_000 }),
        shuffleUrl: fc.integer({ min: 1, max: 65535 }).map((p) => `http://127.0.0.1:${p}`),
        tsmrVersion: fc.constantFrom('0.1.0', '1.12.3-rc.1+build.5'),
        registeredAt: n,
        lastHeartbeatAt: n,
        slotsTotal: small,
        slotsBusy: small,
        attemptsRun: n,
        attemptsFailed: n,
        mapOutputsHeld: n,
        shuffleBytesServed: n,
        averageAttemptMs: n,
      },
      {
        requiredKeys: [
          'workerId',
          'incarnation',
          'state',
          'hostName',
          'pid',
          'shuffleUrl',
          'tsmrVersion',
          'registeredAt',
          'lastHeartbeatAt',
          'slotsTotal',
          'slotsBusy',
          'attemptsRun',
          'attemptsFailed',
          'mapOutputsHeld',
          'shuffleBytesServed',
        ],
      },
    ),
    { maxLength: 3 },
  ),
});

test('job submissions survive the wire', () => {
  assertRoundTrips(submission, SubmitJobRequestSchema, submissionToWire, (m) => submissionFromWire(m));
});

test('progress snapshots, job reports, watched job events and cluster status survive the wire', () => {
  assertRoundTrips(progress, ProgressSnapshotSchema, progressToWire, (m) => progressFromWire(m));
  assertRoundTrips(report, JobReportSchema, reportToWire, (m) => reportFromWire(m));
  assertRoundTrips(jobEvent, WatchJobResponseSchema, jobEventToWire, (m) => jobEventFromWire(m), 300);
  assertRoundTrips(status, GetStatusResponseSchema, statusToWire, (m) => statusFromWire(m), 100);
});

test('a submission with a relative path, a failure rate above 1 or an unknown sampler is refused; an upload must hash to its name', () => {
  const base: JobSubmission = {
    submissionId: 's1',
    job: { kind: 'streaming', mapper: 'cat' },
    options: { input: ['/data'], overwrite: false, reducers: 2 },
  };
  const field = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      assert.ok(isTsmrError(e) && e.code === ErrorCode.BAD_MESSAGE, String(e));
      return e.details.field;
    }
    assert.fail('accepted');
  };
  const options = (o: JobSubmission['options']) =>
    submissionToWire({ ...base, options: { ...base.options, ...o } });
  assert.equal(
    field(() => submissionFromWire(options({ input: ['data'] }))),
    'SubmitJobRequest.job.inputs[0]',
  );
  assert.equal(
    field(() => submissionFromWire(options({ simulateFailures: 1.5 }))),
    'SubmitJobRequest.job.settings.simulate_failures',
  );
  const wire = options({ totalOrder: { sampler: 'split' } });
  wire.job!.totalOrder!.sampler = 'reservoir';
  assert.equal(
    field(() => submissionFromWire(wire)),
    'SubmitJobRequest.job.total_order.sampler',
  );
  assert.equal(
    field(() => submissionFromWire(create(SubmitJobRequestSchema, { submissionId: 's' }))),
    'SubmitJobRequest.job',
  );

  const bundle = new TextEncoder().encode('export default 1;\n');
  const sha256 = createHash('sha256').update(bundle).digest('hex');
  assert.deepStrictEqual(uploadFromWire(create(UploadBundleRequestSchema, { sha256, bundle })), {
    sha256,
    bundle,
  });
  assert.equal(
    field(() => uploadFromWire(create(UploadBundleRequestSchema, { sha256: '0'.repeat(64), bundle }))),
    'UploadBundleRequest.bundle',
  );
  assert.equal(
    field(() => uploadFromWire(create(UploadBundleRequestSchema, { sha256: 'XYZ', bundle }))),
    'UploadBundleRequest.sha256',
  );
});

test('a report or snapshot that breaks a rule is refused: skipped inputs, stalled attempts, job id', () => {
  const snapshot = (patch: object) =>
    create(ProgressSnapshotSchema, {
      jobId: 'job-20250101-120000-3fa9c1',
      map: {},
      reduce: {},
      stalled: [{ attemptId: 'm-00001_0', worker: 'local', idleMs: 12_000n }],
      ...patch,
    });
  assert.equal(progressFromWire(snapshot({})).stalled[0].idleMs, 12_000);
  refuses(
    () => progressFromWire(snapshot({ stalled: [{ attemptId: 'm-1_0', worker: 'local' }] })),
    'ProgressSnapshot.stalled[0].attempt_id',
  );
  refuses(() => progressFromWire(snapshot({ jobId: 'wc' })), 'ProgressSnapshot.job_id');

  /** A valid report (settings: R = 4), with `patch`. */
  const report = (patch: object) =>
    create(JobReportSchema, {
      jobId: 'job-20250101-120000-3fa9c1',
      status: JobState.SUCCEEDED,
      settings: validSettings,
      validation: {},
      ...patch,
    });
  const listed = [{ path: '/in/link', reason: SkipReason.DANGLING_SYMLINK }];
  assert.deepStrictEqual(reportFromWire(report({ inputsSkipped: { count: 3n, listed } })).inputsSkipped, {
    count: 3,
    listed: [{ path: '/in/link', reason: 'dangling symlink' }],
  });
  refuses(() => reportFromWire(report({ inputsSkipped: { count: 0n } })), 'JobReport.inputs_skipped.count');
  refuses(
    () => reportFromWire(report({ inputsSkipped: { count: 1n, listed: [...listed, ...listed] } })),
    'JobReport.inputs_skipped.listed',
    /more than 1/,
  );
  refuses(
    () =>
      reportFromWire(
        report({
          inputsSkipped: { count: 1n, listed: [{ path: '/in/fifo', reason: SkipReason.UNSPECIFIED }] },
        }),
      ),
    'JobReport.inputs_skipped.listed[0].reason',
  );
  refuses(
    () =>
      reportFromWire(
        report({ inputsSkipped: { count: 1n, listed: [{ path: 'fifo', reason: SkipReason.FIFO }] } }),
      ),
    'JobReport.inputs_skipped.listed[0].path',
  );
});

/** Settings within every bound: R = 4, skip mode on. */
const validSettings = {
  inputs: ['/in'],
  reducers: 4,
  splitSize: 1n,
  sortBufferBytes: 1024n,
  mergeFanIn: 2,
  maxAttempts: 1,
  skipBadRecords: 5n,
};

test('report sections that break their bounds are refused: settings, workers, total order, skipped records, attempts', () => {
  const report = (patch: object) =>
    create(JobReportSchema, {
      jobId: 'job-20250101-120000-3fa9c1',
      status: JobState.SUCCEEDED,
      settings: validSettings,
      validation: {},
      ...patch,
    });
  const f = 'JobReport';
  const settings = (patch: object) => report({ settings: { ...validSettings, ...patch } });
  assert.equal(reportFromWire(report({})).settings.skipBadRecords, 5);
  refuses(() => reportFromWire(report({ settings: undefined })), `${f}.settings`, /required/);
  refuses(() => reportFromWire(settings({ reducers: 0 })), `${f}.settings.reducers`);
  refuses(() => reportFromWire(settings({ reducers: 100_001 })), `${f}.settings.reducers`);
  refuses(() => reportFromWire(settings({ splitSize: 0n })), `${f}.settings.split_size`);
  refuses(() => reportFromWire(settings({ sortBufferBytes: 1023n })), `${f}.settings.sort_buffer_bytes`);
  refuses(() => reportFromWire(settings({ mergeFanIn: 1 })), `${f}.settings.merge_fan_in`);
  refuses(() => reportFromWire(settings({ maxAttempts: 0 })), `${f}.settings.max_attempts`);
  refuses(() => reportFromWire(settings({ simulateFailures: 1.5 })), `${f}.settings.simulate_failures`);
  refuses(() => reportFromWire(settings({ skipBadRecords: 0n })), `${f}.settings.skip_bad_records`);
  refuses(() => reportFromWire(settings({ seed: 2n ** 53n })), `${f}.settings.seed`);

  const worker = { workerId: 'w1', attempts: 3, tasks: 2, failedAttempts: 1, killedAttempts: 2 };
  assert.equal(reportFromWire(report({ workers: [worker] })).workers[0].killedAttempts, 2);
  const workers = (patch: object) => report({ workers: [{ ...worker, ...patch }] });
  refuses(() => reportFromWire(workers({ tasks: 4 })), `${f}.workers[0].tasks`);
  refuses(() => reportFromWire(workers({ killedAttempts: 3 })), `${f}.workers[0].killed_attempts`);
  refuses(() => reportFromWire(workers({ attempts: 100_001 })), `${f}.workers[0].attempts`);
  refuses(() => reportFromWire(workers({ workerId: '../w' })), `${f}.workers[0].worker_id`);
  refuses(
    () => reportFromWire(report({ workers: [worker, worker] })),
    `${f}.workers[1].worker_id`,
    /repeats "w1"/,
  );

  const order = { sampler: Sampler.RANDOM, samples: 10n, sampledKeys: 10n, splitsSampled: 2, splitPoints: 3 };
  assert.equal(reportFromWire(report({ totalOrder: order })).totalOrder?.splitPoints, 3);
  const totalOrder = (patch: object) => report({ totalOrder: { ...order, ...patch } });
  refuses(() => reportFromWire(totalOrder({ splitPoints: 4 })), `${f}.total_order.split_points`);
  refuses(() => reportFromWire(totalOrder({ sampledKeys: 11n })), `${f}.total_order.sampled_keys`);
  refuses(() => reportFromWire(totalOrder({ samples: 0n })), `${f}.total_order.samples`);
  refuses(() => reportFromWire(totalOrder({ sampler: Sampler.UNSPECIFIED })), `${f}.total_order.sampler`);

  const record = { file: '/in/a.jsonl', offset: 7n, errorCode: 'TSMR_BAD_RECORD', errorMessage: 'bad JSON' };
  const skipped = { count: 1n, max: 5n, listed: [{ taskId: 'm-00002', record }] };
  assert.deepStrictEqual(reportFromWire(report({ skippedRecords: skipped })).skippedRecords, {
    count: 1,
    max: 5,
    listed: [
      {
        taskId: 'm-00002',
        file: '/in/a.jsonl',
        offset: 7,
        error: { code: 'TSMR_BAD_RECORD', message: 'bad JSON' },
      },
    ],
  });
  const skippedRecords = (patch: object) => report({ skippedRecords: { ...skipped, ...patch } });
  const s = `${f}.skipped_records`;
  refuses(() => reportFromWire(skippedRecords({ count: 6n })), `${s}.count`, /more than max/);
  refuses(() => reportFromWire(skippedRecords({ count: 0n, listed: [] })), `${s}.count`);
  refuses(
    () => reportFromWire(skippedRecords({ listed: [skipped.listed[0], skipped.listed[0]] })),
    `${s}.listed`,
  );
  refuses(
    () => reportFromWire(skippedRecords({ listed: [{ taskId: 'r-00002', record }] })),
    `${s}.listed[0].task_id`,
  );
  refuses(() => reportFromWire(skippedRecords({ listed: [{ taskId: 'm-00002' }] })), `${s}.listed[0].record`);
  refuses(
    () =>
      reportFromWire(skippedRecords({ listed: [{ taskId: 'm-00002', record: { ...record, file: 'a' } }] })),
    `${s}.listed[0].record.file`,
  );
  refuses(
    () =>
      reportFromWire(
        skippedRecords({ listed: [{ taskId: 'm-00002', record: { ...record, errorCode: '' } }] }),
      ),
    `${s}.listed[0].record.error_code`,
  );

  const attempt = { taskId: 'm-00001', worker: 'w1', status: AttemptStatus.SUCCEEDED, inputBytes: 2n ** 53n };
  refuses(() => reportFromWire(report({ attempts: [attempt] })), `${f}.attempts[0].input_bytes`);
});

test('watched job events that break a rule are refused: no case, a start with another R, an attempt whose status and state disagree', () => {
  const f = 'WatchJobResponse';
  refuses(() => jobEventFromWire(create(WatchJobResponseSchema, {})), f, /none of its cases/);
  const started = (patch: object) =>
    create(WatchJobResponseSchema, {
      event: {
        case: 'started',
        value: {
          jobId: 'job-20250101-120000-3fa9c1',
          settings: validSettings,
          mapTasks: 3,
          reduceTasks: 4,
          workers: [{ workerId: 'w1', slots: 2 }],
          ...patch,
        },
      },
    });
  const back = jobEventFromWire(started({}));
  assert.deepStrictEqual(back.type === 'started' && back.start.tasks, { map: 3, reduce: 4 });
  refuses(() => jobEventFromWire(started({ reduceTasks: 3 })), `${f}.started.reduce_tasks`);
  refuses(() => jobEventFromWire(started({ settings: undefined })), `${f}.started.settings`, /required/);
  refuses(
    () => jobEventFromWire(started({ workers: [{ workerId: 'w1' }, { workerId: 'w1' }] })),
    `${f}.started.workers[1].worker_id`,
  );

  const attempt = (patch: object) =>
    create(WatchJobResponseSchema, {
      event: {
        case: 'attempt',
        value: {
          record: { taskId: 'r-00002', attempt: 1, worker: 'w1', status: AttemptStatus.KILLED },
          state: AttemptStatePb.LOST,
          reason: 'worker w1 lost',
          ...patch,
        },
      },
    });
  const a = jobEventFromWire(attempt({}));
  assert.ok(a.type === 'attempt');
  assert.deepStrictEqual(
    [a.attempt.attemptId, a.attempt.kind, a.attempt.index, a.attempt.state, a.attempt.reason],
    ['r-00002_1', 'reduce', 2, 'lost', 'worker w1 lost'],
  );
  refuses(() => jobEventFromWire(attempt({ state: AttemptStatePb.COMMITTED })), `${f}.attempt.record.status`);
  refuses(() => jobEventFromWire(attempt({ state: AttemptStatePb.UNSPECIFIED })), `${f}.attempt.state`);
  refuses(() => jobEventFromWire(attempt({ record: undefined })), `${f}.attempt.record`, /required/);
});
