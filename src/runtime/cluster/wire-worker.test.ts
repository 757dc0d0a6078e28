import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import {
  AcquireTasksRequestSchema,
  AcquireTasksResponseSchema,
  GetBundleResponseSchema,
  HeartbeatRequestSchema,
  HeartbeatResponseSchema,
  RegisterRequestSchema,
  RegisterResponseSchema,
  ReportFetchFailureRequestSchema,
  ReportOutcomeRequestSchema,
  SessionResponseSchema,
} from './gen/tsmr/cluster/v1/worker_service_pb.js';
import { TaskLeaseSchema } from './gen/tsmr/cluster/v1/task_pb.js';
import { outcomeToWire } from './wire-result.ts';
import { taskSpecToWire } from './wire-task.ts';
import {
  bundleFromWire,
  fetchFailureFromWire,
  heartbeatAnswerFromWire,
  heartbeatFromWire,
  leasesFromWire,
  outcomeReportFromWire,
  registeredFromWire,
  registrationFromWire,
  sessionCommandFromWire,
  taskPollFromWire,
} from './wire-worker.ts';
import { refuses } from './wire-test-support.ts';

const JOB = 'job-20250101-120000-3fa9c1';
const OLD_JOB = 'job-20241231-235959-000000';

const registration = {
  workerId: 'node7-w1',
  tsmrVersion: '0.1.0',
  shuffleUrl: 'http://10.0.0.7:7070',
  slots: 8,
  hostName: 'node7',
  pid: 4242,
  mapOutputs: [{ jobId: JOB, mapAttemptId: 'm-00003_0' }],
};

test('Register: a good request reads back; slots, URL, version and held outputs are checked', () => {
  assert.deepStrictEqual(registrationFromWire(create(RegisterRequestSchema, registration)), registration);
  const bad = (patch: object) => create(RegisterRequestSchema, { ...registration, ...patch });
  refuses(() => registrationFromWire(bad({ slots: 0 })), 'RegisterRequest.slots');
  refuses(() => registrationFromWire(bad({ slots: 5000 })), 'RegisterRequest.slots');
  refuses(() => registrationFromWire(bad({ shuffleUrl: '10.0.0.7:7070' })), 'RegisterRequest.shuffle_url');
  refuses(() => registrationFromWire(bad({ tsmrVersion: '' })), 'RegisterRequest.tsmr_version', /required/);
  refuses(() => registrationFromWire(bad({ tsmrVersion: '0.1' })), 'RegisterRequest.tsmr_version');
  refuses(() => registrationFromWire(bad({ tsmrVersion: 'v0.1.0' })), 'RegisterRequest.tsmr_version');
  assert.equal(registrationFromWire(bad({ tsmrVersion: '0.2.0-rc.1' })).tsmrVersion, '0.2.0-rc.1');
  refuses(() => registrationFromWire(bad({ workerId: 'a/b' })), 'RegisterRequest.worker_id');
  refuses(
    () => registrationFromWire(bad({ mapOutputs: [{ jobId: JOB, mapAttemptId: 'r-00003_0' }] })),
    'RegisterRequest.map_outputs[0].map_attempt_id',
    /map attempt/,
  );
  const answer = registeredFromWire(
    create(RegisterResponseSchema, {
      incarnation: 7n,
      heartbeatIntervalMs: 2000,
      heartbeatTimeoutMs: 10_000,
    }),
  );
  assert.deepStrictEqual(answer, { incarnation: 7, heartbeatIntervalMs: 2000, heartbeatTimeoutMs: 10_000 });
  refuses(
    () =>
      registeredFromWire(
        create(RegisterResponseSchema, {
          incarnation: 7n,
          heartbeatIntervalMs: 2000,
          heartbeatTimeoutMs: 1000,
        }),
      ),
    'RegisterResponse.heartbeat_timeout_ms',
  );
});

test('every report names its worker and a real incarnation (>= 1, at most 2^53 - 1)', () => {
  const hb = create(HeartbeatRequestSchema, {
    workerId: 'w1',
    incarnation: 3n,
    running: [{ jobId: JOB, attemptId: 'm-00001_0', bytes: 100n, records: 4n }],
    shuffleBytesServed: 10n,
  });
  assert.deepStrictEqual(heartbeatFromWire(hb), {
    worker: { workerId: 'w1', incarnation: 3 },
    running: [{ jobId: JOB, attemptId: 'm-00001_0', bytes: 100, records: 4 }],
    mapOutputs: [],
    shuffleBytesServed: 10,
  });
  refuses(
    () => heartbeatFromWire(create(HeartbeatRequestSchema, { workerId: 'w1' })),
    'HeartbeatRequest.incarnation',
  );
  refuses(
    () => heartbeatFromWire(create(HeartbeatRequestSchema, { workerId: 'w1', incarnation: 2n ** 63n })),
    'HeartbeatRequest.incarnation',
  );
  const poll = create(AcquireTasksRequestSchema, {
    workerId: 'w1',
    incarnation: 1n,
    freeSlots: 2,
    waitMs: 30_000,
    pollSeq: 5n,
  });
  assert.deepStrictEqual(taskPollFromWire(poll), {
    worker: { workerId: 'w1', incarnation: 1 },
    freeSlots: 2,
    waitMs: 30_000,
    pollSeq: 5,
  });
  refuses(
    () => taskPollFromWire(create(AcquireTasksRequestSchema, { ...poll, waitMs: 600_000 })),
    'AcquireTasksRequest.wait_ms',
  );
  refuses(
    () => taskPollFromWire(create(AcquireTasksRequestSchema, { ...poll, freeSlots: 0 })),
    'AcquireTasksRequest.free_slots',
  );
});

test('ReportOutcome: the result must be of the attempt id kind; fetch failures name a map attempt of that map', () => {
  const partitions = [{ offset: 0, length: 1, records: 1, crc32: 0 }];
  const mapSuccess = outcomeToWire({
    ok: true,
    result: {
      counters: {},
      input: { bytes: 4, records: 1 },
      mapOutput: { partitions, records: 1, bytes: 1 },
    },
  });
  const base = { workerId: 'w1', incarnation: 2n, jobId: JOB, outcome: mapSuccess };
  const report = outcomeReportFromWire(
    create(ReportOutcomeRequestSchema, { ...base, attemptId: 'm-00000_1' }),
    1,
  );
  assert.equal(report.attemptId, 'm-00000_1');
  assert.equal(report.outcome.ok, true);
  refuses(
    () => outcomeReportFromWire(create(ReportOutcomeRequestSchema, { ...base, attemptId: 'r-00000_1' })),
    'ReportOutcomeRequest.outcome.success.result.map_output',
  );
  refuses(
    () => outcomeReportFromWire(create(ReportOutcomeRequestSchema, { ...base, attemptId: 'm-0_1' })),
    'ReportOutcomeRequest.attempt_id',
  );

  const ff = {
    workerId: 'w1',
    incarnation: 2n,
    jobId: JOB,
    reduceAttemptId: 'r-00001_0',
    mapTaskId: 'm-00004',
  };
  const ok = fetchFailureFromWire(
    create(ReportFetchFailureRequestSchema, { ...ff, mapAttemptId: 'm-00004_2' }),
  );
  assert.equal(ok.mapAttemptId, 'm-00004_2');
  refuses(
    () => fetchFailureFromWire(create(ReportFetchFailureRequestSchema, { ...ff, mapAttemptId: 'm-00005_2' })),
    'ReportFetchFailureRequest.map_attempt_id',
  );
  refuses(
    () =>
      fetchFailureFromWire(
        create(ReportFetchFailureRequestSchema, {
          ...ff,
          reduceAttemptId: 'm-00001_0',
          mapAttemptId: 'm-00004_2',
        }),
      ),
    'ReportFetchFailureRequest.reduce_attempt_id',
  );
});

test('worker-side answers: kills, leases, session commands, bundles checked against their hash', () => {
  const answer = heartbeatAnswerFromWire(
    create(HeartbeatResponseSchema, {
      kill: [{ jobId: JOB, attemptId: 'r-00000_0', reason: 'twin won' }],
      discardJobs: [OLD_JOB],
    }),
  );
  assert.deepStrictEqual(answer, {
    reregister: false,
    kill: [{ jobId: JOB, attemptId: 'r-00000_0', reason: 'twin won' }],
    discardJobs: [OLD_JOB],
  });
  const lease = taskSpecToWire({
    kind: 'map',
    jobId: JOB,
    taskId: 'm-00000',
    attempt: 0,
    job: { kind: 'streaming', mapper: 'cat' },
    params: {},
    numReducers: 1,
    split: { index: 0, parts: [], length: 0 },
    inputFormat: { type: 'jsonl' },
    sortBufferBytes: 1 << 20,
    mergeFanIn: 8,
  });
  const leases = leasesFromWire(create(AcquireTasksResponseSchema, { leases: [lease] }));
  assert.equal(leases.leases[0].taskId, 'm-00000');
  refuses(
    () => leasesFromWire(create(AcquireTasksResponseSchema, { leases: [create(TaskLeaseSchema, {})] })),
    'AcquireTasksResponse.leases[0]',
    /none of its cases/,
  );

  assert.deepStrictEqual(
    sessionCommandFromWire(create(SessionResponseSchema, { command: { case: 'attached', value: {} } })),
    { type: 'attached' },
  );
  assert.deepStrictEqual(
    sessionCommandFromWire(
      create(SessionResponseSchema, { command: { case: 'drain', value: { reason: 'shutdown' } } }),
    ),
    { type: 'drain', reason: 'shutdown' },
  );
  refuses(
    () => sessionCommandFromWire(create(SessionResponseSchema, {})),
    'SessionResponse',
    /none of its cases/,
  );

  const bytes = new TextEncoder().encode('export default {}');
  const sha = createHash('sha256').update(bytes).digest('hex');
  assert.equal(bundleFromWire(create(GetBundleResponseSchema, { bundle: bytes }), sha), bytes);
  refuses(
    () => bundleFromWire(create(GetBundleResponseSchema, { bundle: bytes }), 'f'.repeat(64)),
    'GetBundleResponse.bundle',
    /hashes to/,
  );
  refuses(
    () => bundleFromWire(create(GetBundleResponseSchema, {}), sha),
    'GetBundleResponse.bundle',
    /required/,
  );
});
