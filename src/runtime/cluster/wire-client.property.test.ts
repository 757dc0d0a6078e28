import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { ErrorCode, isTsmrError } from '../../errors.ts';
import type { JobReport, PhaseProgress, ProgressSnapshot } from '../../engine/job-report.ts';
import {
  GetStatusResponseSchema,
  JobReportSchema,
  JobState,
  ProgressSnapshotSchema,
  SkipReason,
  SubmitJobRequestSchema,
  UploadBundleRequestSchema,
} from './gen/tsmr/cluster/v1/client_service_pb.js';
import { submissionFromWire, submissionToWire, uploadFromWire } from './wire-job.ts';
import type { JobSubmission } from './wire-job.ts';
import { progressFromWire, progressToWire, reportFromWire, reportToWire } from './wire-report.ts';
import { statusFromWire, statusToWire } from './wire-status.ts';
import type { ClusterStatus } from './wire-status.ts';
import {
  absPath,
  assertRoundTrips,
  attemptId,
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
/** A task timeout: none (`Infinity` in settings, 0 in reports) or a uint32 of ms. */
const taskTimeoutMs = fc.integer({ min: 1, max: 0xffffffff });

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

function phase(p: 'map' | 'reduce'): fc.Arbitrary<PhaseProgress> {
  return fc
    .record(
      {
        tasksTotal: small,
        done: small,
        tasksRunning: small,
        bytesTotal: n,
        bytesDone: n,
        records: n,
        startedAt: n,
        finishedAt: n,
      },
      { requiredKeys: ['tasksTotal', 'done', 'tasksRunning', 'bytesTotal', 'bytesDone', 'records'] },
    )
    .map(({ done, ...rest }) => ({ phase: p, ...rest, tasksDone: Math.min(done, rest.tasksTotal) }));
}
const progress: fc.Arbitrary<ProgressSnapshot> = fc.record({
  jobId,
  now: n,
  startedAt: n,
  phases: fc.record({ map: phase('map'), reduce: phase('reduce') }),
  failedAttempts: small,
  stalled: fc.array(fc.record({ attemptId, worker: name, idleMs: n }), { maxLength: 4 }),
  taskTimeoutMs: fc.oneof(fc.constant(0), taskTimeoutMs),
});

const phaseReport = fc.record({
  tasks: small,
  startedAt: n,
  finishedAt: n,
  durationMs: n,
  inputBytes: n,
  inputRecords: n,
  outputRecords: n,
  throughputMBps: fc.double({ min: 0, max: 1e6, noNaN: true }),
});
const report: fc.Arbitrary<JobReport> = fc.record(
  {
    jobId,
    name: text,
    status: fc.constantFrom('succeeded' as const, 'failed' as const, 'cancelled' as const),
    startedAt: n,
    finishedAt: n,
    durationMs: n,
    settings: fc.record(
      {
        inputs: fc.array(absPath, { maxLength: 3 }),
        output: absPath,
        workers: small,
        reducers: small,
        splitSize: n,
        sortBufferBytes: n,
        mergeFanIn: small,
        maxAttempts: small,
        taskTimeoutMs: fc.oneof(fc.constant(0), taskTimeoutMs),
        simulateFailures: fc.double({ min: 0, max: 1, noNaN: true }),
        seed: fc.maxSafeNat(),
        params,
      },
      {
        requiredKeys: [
          'inputs',
          'workers',
          'reducers',
          'splitSize',
          'sortBufferBytes',
          'mergeFanIn',
          'maxAttempts',
          'taskTimeoutMs',
          'params',
        ],
      },
    ),
    phases: fc.record({ map: phaseReport, reduce: phaseReport }, { requiredKeys: [] }),
    counters,
    attempts: fc.array(
      fc.record(
        {
          taskId: fc.nat({ max: 99_999 }).map((i) => `m-${String(i).padStart(5, '0')}`),
          attempt: fc.nat({ max: 9 }),
          worker: name,
          startedAt: n,
          finishedAt: n,
          status: fc.constantFrom(
            'running' as const,
            'succeeded' as const,
            'failed' as const,
            'killed' as const,
            'committed' as const,
            'duplicate' as const,
          ),
          error: serializedError,
        },
        { requiredKeys: ['taskId', 'attempt', 'worker', 'startedAt', 'status'] },
      ),
      { maxLength: 4 },
    ),
    duplicateCompletions: small,
    outputFiles: fc.array(absPath, { maxLength: 3 }),
    outputBytes: n,
    outputRecords: n,
    peakRssBytes: n,
    inputsSkipped: fc.record({
      count: fc.integer({ min: 1, max: 2 ** 40 }),
      listed: fc.array(
        fc.record({
          path: absPath,
          reason: fc.constantFrom(
            'fifo' as const,
            'socket' as const,
            'device' as const,
            'other' as const,
            'dangling symlink' as const,
            'symlink loop' as const,
            'vanished' as const,
          ),
        }),
        { maxLength: 4 },
      ),
    }),
    validation: fc.record(
      {
        inputBytesMatch: fc.boolean(),
        shuffleRecordsMatch: fc.boolean(),
        checksumsVerified: small,
        verifiedAgainstSequential: fc.boolean(),
      },
      { requiredKeys: ['inputBytesMatch', 'shuffleRecordsMatch', 'checksumsVerified'] },
    ),
    error: serializedError,
  },
  {
    requiredKeys: [
      ...[
        'jobId',
        'name',
        'status',
        'startedAt',
        'finishedAt',
        'durationMs',
        'settings',
        'phases',
        'counters',
      ],
      ...[
        'attempts',
        'duplicateCompletions',
        'outputFiles',
        'outputBytes',
        'outputRecords',
        'peakRssBytes',
        'validation',
      ],
    ] as const,
  },
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

test('progress snapshots, job reports and cluster status survive the wire', () => {
  assertRoundTrips(progress, ProgressSnapshotSchema, progressToWire, (m) => progressFromWire(m));
  assertRoundTrips(report, JobReportSchema, reportToWire, (m) => reportFromWire(m));
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

  const report = (inputsSkipped: object) =>
    create(JobReportSchema, {
      jobId: 'job-20250101-120000-3fa9c1',
      status: JobState.SUCCEEDED,
      settings: {},
      validation: {},
      inputsSkipped,
    });
  const listed = [{ path: '/in/link', reason: SkipReason.DANGLING_SYMLINK }];
  assert.deepStrictEqual(reportFromWire(report({ count: 3n, listed })).inputsSkipped, {
    count: 3,
    listed: [{ path: '/in/link', reason: 'dangling symlink' }],
  });
  refuses(() => reportFromWire(report({ count: 0n })), 'JobReport.inputs_skipped.count');
  refuses(
    () =>
      reportFromWire(report({ count: 1n, listed: [{ path: '/in/fifo', reason: SkipReason.UNSPECIFIED }] })),
    'JobReport.inputs_skipped.listed[0].reason',
  );
  refuses(
    () => reportFromWire(report({ count: 1n, listed: [{ path: 'fifo', reason: SkipReason.FIFO }] })),
    'JobReport.inputs_skipped.listed[0].path',
  );
});
