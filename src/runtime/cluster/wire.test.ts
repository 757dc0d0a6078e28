import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ErrorCode, TsmrError, deserializeError, isTsmrError, serializeError } from '../../errors.ts';
import type { SerializedError } from '../../errors.ts';
import { TextEncoding } from './gen/tsmr/cluster/v1/common_pb.js';
import { AttemptOutcomeSchema, TaskLeaseSchema } from './gen/tsmr/cluster/v1/task_pb.js';
import type { TaskLease, TaskResult as TaskResultPb } from './gen/tsmr/cluster/v1/task_pb.js';
import { outcomeFromWire, outcomeToWire } from './wire-result.ts';
import { taskSpecFromWire, taskSpecToWire } from './wire-task.ts';
import type { MapTaskSpec, ReduceTaskSpec } from './wire-task.ts';
import { refuses } from './wire-test-support.ts';

const JOB = 'job-20250101-120000-3fa9c1';

const mapSpec: MapTaskSpec = {
  kind: 'map',
  jobId: JOB,
  taskId: 'm-00003',
  attempt: 1,
  job: { kind: 'module', bundleSha256: 'ab'.repeat(32), exportName: 'default' },
  params: { lang: 'en', n: 3 },
  numReducers: 2,
  split: {
    index: 3,
    parts: [
      { path: '/data/in.txt', start: 0, end: 100, compressed: false, size: 250, mtimeMs: 1735732800123.25 },
    ],
    length: 100,
  },
  inputFormat: { type: 'text', encoding: 'utf8' },
  sortBufferBytes: 64 << 20,
  mergeFanIn: 64,
};

const reduceSpec: ReduceTaskSpec = {
  kind: 'reduce',
  jobId: JOB,
  taskId: 'r-00001',
  attempt: 0,
  job: { kind: 'defined', bundleSha256: 'cd'.repeat(32), index: 1, fingerprint: 'ef'.repeat(32) },
  params: {},
  numReducers: 2,
  partition: 1,
  sources: [
    {
      mapTaskId: 'm-00000',
      mapAttemptId: 'm-00000_0',
      segment: { offset: 40, length: 10, records: 2, crc32: 12345 },
      location: { kind: 'worker', workerId: 'node7-w1', shuffleUrl: 'http://127.0.0.1:7070' },
    },
    {
      mapTaskId: 'm-00002',
      mapAttemptId: 'm-00002_3',
      segment: { offset: 0, length: 7, records: 1, crc32: 99 },
      location: { kind: 'local', path: '/shared/maps/m-00002_3.data' },
    },
  ],
  mergeFanIn: 64,
  output: {
    kind: 'file',
    dir: '/out/_temporary/attempts/r-00001_0',
    fileName: 'part-r-00001',
    format: { type: 'jsonl' },
  },
};

function mapLease(mutate: (m: Extract<TaskLease['task'], { case: 'map' }>['value']) => void): TaskLease {
  const lease = taskSpecToWire(mapSpec);
  assert.equal(lease.task.case, 'map');
  mutate(lease.task.value);
  return fromBinary(TaskLeaseSchema, toBinary(TaskLeaseSchema, lease));
}

test('valid specs pass unchanged', () => {
  assert.deepStrictEqual(taskSpecFromWire(taskSpecToWire(mapSpec)), mapSpec);
  assert.deepStrictEqual(taskSpecFromWire(taskSpecToWire(reduceSpec)), reduceSpec);
});

test('a task lease that breaks a rule is refused with TSMR_BAD_MESSAGE naming the field', () => {
  const h = 'TaskLease.map.header';
  refuses(() => taskSpecFromWire(create(TaskLeaseSchema, {})), 'TaskLease', /none of its cases/);
  refuses(
    () => taskSpecFromWire(mapLease((m) => (m.header!.taskId = 'r-00003'))),
    `${h}.task_id`,
    /map task/,
  );
  refuses(() => taskSpecFromWire(mapLease((m) => (m.header!.taskId = 'm-3'))), `${h}.task_id`);
  refuses(() => taskSpecFromWire(mapLease((m) => (m.header!.jobId = '../etc'))), `${h}.job_id`);
  refuses(() => taskSpecFromWire(mapLease((m) => (m.header!.jobId = 'job-1'))), `${h}.job_id`, /job id/);
  refuses(() => taskSpecFromWire(mapLease((m) => (m.header!.jobId = ''))), `${h}.job_id`, /required/);
  refuses(() => taskSpecFromWire(mapLease((m) => (m.header!.numReducers = 0))), `${h}.num_reducers`);
  refuses(() => taskSpecFromWire(mapLease((m) => (m.header!.crashAt = 1.5))), `${h}.crash_at`);
  refuses(() => taskSpecFromWire(mapLease((m) => (m.header!.job = undefined))), `${h}.job`, /required/);
  refuses(
    () => taskSpecFromWire(mapLease((m) => (m.sortBufferBytes = 2n ** 53n))),
    'TaskLease.map.sort_buffer_bytes',
    /2\^53 - 1/,
  );
  refuses(
    () => taskSpecFromWire(mapLease((m) => (m.split!.parts[0].path = 'in.txt'))),
    'TaskLease.map.split.parts[0].path',
    /absolute/,
  );
  refuses(
    () => taskSpecFromWire(mapLease((m) => (m.split!.length = 99n))),
    'TaskLease.map.split.length',
    /add up to 100/,
  );
  refuses(
    () => taskSpecFromWire(mapLease((m) => ((m.split!.parts[0].end = 0n), (m.split!.parts[0].start = 5n)))),
    'TaskLease.map.split.parts[0].end',
  );
  refuses(
    () => taskSpecFromWire(mapLease((m) => (m.split!.parts[0].size = 99n))),
    'TaskLease.map.split.parts[0].end',
    /past the file's size 99/,
  );
  refuses(
    () => taskSpecFromWire(mapLease((m) => (m.split!.parts[0].mtimeMs = Infinity))),
    'TaskLease.map.split.parts[0].mtime_ms',
  );
  refuses(
    () =>
      taskSpecFromWire(
        mapLease((m) => {
          if (m.header!.job!.kind.case === 'module') m.header!.job!.kind.value.bundleSha256 = 'AB'.repeat(32);
        }),
      ),
    `${h}.job.module.bundle_sha256`,
  );
  refuses(() => taskSpecFromWire(mapLease((m) => (m.split!.index = 4))), 'TaskLease.map.split.index');
  refuses(
    () =>
      taskSpecFromWire(
        mapLease(
          (m) =>
            (m.inputFormat = {
              $typeName: 'tsmr.cluster.v1.InputFormat',
              format: {
                case: 'text',
                value: { $typeName: 'tsmr.cluster.v1.TextInput', encoding: TextEncoding.UNSPECIFIED },
              },
            }),
        ),
      ),
    'TaskLease.map.input_format.text.encoding',
  );
  refuses(
    () =>
      taskSpecFromWire(
        mapLease(
          (m) =>
            (m.header!.params.x = {
              $typeName: 'tsmr.cluster.v1.ParamValue',
              kind: { case: 'numberValue', value: NaN },
            }),
        ),
      ),
    'TaskLease.map.header.params["x"]',
  );
  refuses(
    () =>
      taskSpecFromWire(
        mapLease(
          (m) =>
            (m.header!.params.y = { $typeName: 'tsmr.cluster.v1.ParamValue', kind: { case: undefined } }),
        ),
      ),
    'TaskLease.map.header.params["y"]',
    /none of its cases/,
  );
});

test('a reduce lease: partition, sources and output are checked', () => {
  const lease = () => {
    const l = taskSpecToWire(reduceSpec);
    assert.equal(l.task.case, 'reduce');
    return { l, r: l.task.value };
  };
  const f = 'TaskLease.reduce';
  let { l, r } = lease();
  r.partition = 2;
  refuses(() => taskSpecFromWire(l), `${f}.partition`, /\[0, 1\]/);
  ({ l, r } = lease());
  r.sources[0].mapAttemptId = 'm-00001_0';
  refuses(() => taskSpecFromWire(l), `${f}.sources[0].map_attempt_id`, /attempt of map task m-00000/);
  ({ l, r } = lease());
  r.sources[0].mapAttemptId = 'm-00000_01';
  refuses(() => taskSpecFromWire(l), `${f}.sources[0].map_attempt_id`, /attempt id/);
  ({ l, r } = lease());
  r.sources.reverse();
  refuses(() => taskSpecFromWire(l), `${f}.sources[1].map_task_id`, /not after/);
  ({ l, r } = lease());
  r.sources[1] = r.sources[0];
  refuses(() => taskSpecFromWire(l), `${f}.sources[1].map_task_id`, /not after/);
  ({ l, r } = lease());
  if (r.sources[0].location.case === 'worker') r.sources[0].location.value.shuffleUrl = 'file:///etc/passwd';
  refuses(() => taskSpecFromWire(l), `${f}.sources[0].worker.shuffle_url`);
  ({ l, r } = lease());
  if (r.sources[1].location.case === 'local') r.sources[1].location.value.path = 'maps/m.data';
  refuses(() => taskSpecFromWire(l), `${f}.sources[1].local.path`, /absolute/);
  ({ l, r } = lease());
  r.sources[0].location = { case: undefined };
  refuses(() => taskSpecFromWire(l), `${f}.sources[0].location`, /none of its cases/);
  ({ l, r } = lease());
  r.sources[0].segment = undefined;
  refuses(() => taskSpecFromWire(l), `${f}.sources[0].segment`, /required/);
  ({ l, r } = lease());
  if (r.header!.job!.kind.case === 'defined') r.header!.job!.kind.value.fingerprint = 'x';
  refuses(() => taskSpecFromWire(l), `${f}.header.job.defined.fingerprint`);
  ({ l, r } = lease());
  if (r.output?.kind.case === 'file') r.output.kind.value.dir = 'out';
  refuses(() => taskSpecFromWire(l), `${f}.output.file.dir`, /absolute/);
  ({ l, r } = lease());
  r.output = undefined;
  refuses(() => taskSpecFromWire(l), `${f}.output`, /required/);
  ({ l, r } = lease());
  if (r.output?.kind.case === 'file') r.output.kind.value.fileName = '../part-r-00001';
  refuses(() => taskSpecFromWire(l), `${f}.output.file.file_name`);
});

test('a parameter named __proto__ stays a parameter', () => {
  const spec: MapTaskSpec = { ...mapSpec, params: JSON.parse('{"__proto__": "x", "a": 1}') };
  const back = taskSpecFromWire(fromBinary(TaskLeaseSchema, toBinary(TaskLeaseSchema, taskSpecToWire(spec))));
  assert.deepStrictEqual(Object.keys(back.params), ['__proto__', 'a']);
  assert.equal(Object.getPrototypeOf(back.params), Object.prototype);
  assert.equal(back.params['__proto__'], 'x');
});

test('attempt outcomes: a result of the wrong kind, a bad index or counter, a deep cause are refused', () => {
  const partitions = [
    { offset: 0, length: 10, records: 2, crc32: 1 },
    { offset: 10, length: 5, records: 1, crc32: 2 },
  ];
  const ok = outcomeToWire({
    ok: true,
    result: {
      counters: { 'tsmr/MAP_INPUT_RECORDS': 3 },
      input: { bytes: 30, records: 3 },
      mapOutput: { partitions, records: 3, bytes: 15 },
    },
  });
  const f = 'outcome.success.result';
  assert.equal(outcomeFromWire(ok, 'outcome', { kind: 'map', numReducers: 2 }).ok, true);
  refuses(
    () => outcomeFromWire(ok, 'outcome', { kind: 'map', numReducers: 3 }),
    `${f}.map_output.partitions`,
    /one per reducer/,
  );
  refuses(() => outcomeFromWire(ok, 'outcome', { kind: 'reduce' }), `${f}.map_output`, /absent for a reduce/);
  refuses(() => outcomeFromWire(undefined, 'outcome', { kind: 'map' }), 'outcome', /required/);
  refuses(
    () => outcomeFromWire(create(AttemptOutcomeSchema, {}), 'outcome', { kind: 'map' }),
    'outcome',
    /none of its cases/,
  );

  /** Refuses `ok` with its result changed by `change`. */
  const refusesChanged = (change: (r: TaskResultPb) => void, field: string, problem?: RegExp) => {
    const m = fromBinary(AttemptOutcomeSchema, toBinary(AttemptOutcomeSchema, ok));
    change(m.outcome.case === 'success' ? m.outcome.value.result! : assert.fail());
    refuses(() => outcomeFromWire(m, 'outcome', { kind: 'map' }), field, problem);
  };
  refusesChanged(
    (r) => (r.mapOutput!.partitions[1].offset = 9n),
    `${f}.map_output.partitions[1].offset`,
    /overlaps/,
  );
  refusesChanged((r) => (r.mapOutput!.records = 4n), `${f}.map_output.records`);
  refusesChanged((r) => (r.mapOutput!.bytes = 14n), `${f}.map_output.bytes`);
  refusesChanged((r) => (r.counters['tsmr/X'] = -(2n ** 60n)), `${f}.counters["tsmr/X"]`);
  refusesChanged((r) => (r.input = undefined), `${f}.input`, /required/);
  refusesChanged((r) => (r.input!.bytes = 2n ** 53n), `${f}.input.bytes`);

  const reduceOk = outcomeToWire({
    ok: true,
    result: {
      counters: {},
      input: { bytes: 5, records: 1 },
      output: { files: ['part-r-00000'], records: 1, bytes: 2 },
      checksumsVerified: 1,
    },
  });
  refuses(
    () => outcomeFromWire(reduceOk, 'outcome', { kind: 'reduce' }),
    `${f}.reduce_output.files[0]`,
    /absolute/,
  );

  let deep: SerializedError = { name: 'Error', message: 'root' };
  for (let i = 0; i < 9; i++) deep = { name: 'Error', message: `level ${i}`, cause: deep };
  const failure = outcomeToWire({ ok: false, error: deep, retriable: true });
  refuses(
    () => outcomeFromWire(failure, 'o', { kind: 'map' }),
    `o.failure.error${'.cause'.repeat(8)}.cause`,
    /deeper than 8/,
  );
  const badDetails = outcomeToWire({ ok: false, error: { name: 'Error', message: 'x' }, retriable: false });
  if (badDetails.outcome.case === 'failure') badDetails.outcome.value.error!.detailsJson = '[1]';
  refuses(
    () => outcomeFromWire(badDetails, 'o', { kind: 'map' }),
    'o.failure.error.details_json',
    /JSON object/,
  );
});

test('a serialized TsmrError with details, retriable and a cause crosses the wire whole', () => {
  const cause = new TypeError('x is not a function');
  const error = serializeError(
    new TsmrError(ErrorCode.CORRUPT_DATA, 'input.gz is corrupt', {
      details: { file: '/d/in.gz', offset: 42 },
      cause,
      retriable: false,
    }),
  );
  assert.equal(error.retriable, false);
  const back = outcomeFromWire(outcomeToWire({ ok: false, error, retriable: false }), 'o', { kind: 'map' });
  assert.deepStrictEqual(back, { ok: false, error, retriable: false });
  const rebuilt = deserializeError((back as { error: SerializedError }).error);
  assert.ok(isTsmrError(rebuilt) && !rebuilt.retriable && rebuilt.code === ErrorCode.CORRUPT_DATA);
});

test("a map success's location stays on the worker: the coordinator locates it", () => {
  const partitions = [{ offset: 0, length: 3, records: 1, crc32: 7 }];
  const result = {
    counters: { a: 1 },
    input: { bytes: 9, records: 1 },
    mapOutput: { partitions, records: 1, bytes: 3 },
  };
  const sent = outcomeToWire({
    ok: true,
    result,
    mapOutput: { kind: 'local', path: '/tmp/w/m-00000_0.data' },
  });
  assert.ok(!Buffer.from(toBinary(AttemptOutcomeSchema, sent)).toString('latin1').includes('/tmp/w'));
  assert.deepStrictEqual(outcomeFromWire(sent, 'o', { kind: 'map', numReducers: 1 }), { ok: true, result });
});
