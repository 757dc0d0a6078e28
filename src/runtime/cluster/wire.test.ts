import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ErrorCode, isTsmrError, serializeError } from '../../errors.ts';
import type { SerializedError } from '../../errors.ts';
import { TextEncoding } from './gen/tsmr/cluster/v1/common_pb.js';
import { AttemptOutcomeSchema, TaskLeaseSchema } from './gen/tsmr/cluster/v1/task_pb.js';
import type { AttemptOutcome as AttemptOutcomePb, TaskLease } from './gen/tsmr/cluster/v1/task_pb.js';
import { outcomeFromWire, outcomeToWire, wireResultOf } from './wire-result.ts';
import { taskSpecFromWire, taskSpecToWire } from './wire-task.ts';
import type { MapTaskSpec, ReduceTaskSpec } from './wire-task.ts';

const mapSpec: MapTaskSpec = {
  kind: 'map',
  jobId: 'job-20250101-120000-3fa9c1',
  taskId: 'm-00003',
  attempt: 1,
  attemptId: 'm-00003_1',
  job: { kind: 'module', bundleSha256: 'ab'.repeat(32), exportName: 'default' },
  params: { lang: 'en', n: 3 },
  numReducers: 2,
  split: { index: 3, parts: [{ path: '/data/in.txt', start: 0, end: 100, compressed: false }], length: 100 },
  inputFormat: { type: 'text', encoding: 'utf8' },
  sortBufferBytes: 64 << 20,
  mergeFanIn: 64,
};

const reduceSpec: ReduceTaskSpec = {
  kind: 'reduce',
  jobId: 'job-1',
  taskId: 'r-00001',
  attempt: 0,
  attemptId: 'r-00001_0',
  job: { kind: 'streaming', mapper: 'tr -s " " "\\n"' },
  params: {},
  numReducers: 2,
  partition: 1,
  sources: [
    {
      mapTaskId: 'm-00000',
      mapAttemptId: 'm-00000_0',
      workerId: 'node7-w1',
      shuffleUrl: 'http://127.0.0.1:7070',
      length: 10,
      records: 2,
      crc32: 12345,
    },
  ],
  mergeFanIn: 64,
  output: { kind: 'file', outputDir: '/out', fileName: 'part-r-00001', format: { type: 'jsonl' } },
};

/** Asserts `fn` throws TSMR_BAD_MESSAGE naming `field`. */
function refuses(fn: () => unknown, field: string, problem?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(
      isTsmrError(e) && e.code === ErrorCode.BAD_MESSAGE,
      `expected TSMR_BAD_MESSAGE, got ${String(e)}`,
    );
    assert.equal(e.details.field, field);
    if (problem) assert.match(e.message, problem);
    return true;
  });
}

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
    () => taskSpecFromWire(mapLease((m) => (m.header!.attemptId = 'm-00003_2'))),
    `${h}.attempt_id`,
    /must be m-00003_1/,
  );
  refuses(() => taskSpecFromWire(mapLease((m) => (m.header!.taskId = 'r-00003'))), `${h}.task_id`);
  refuses(() => taskSpecFromWire(mapLease((m) => (m.header!.jobId = '../etc'))), `${h}.job_id`);
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
  r.sources[0].shuffleUrl = 'file:///etc/passwd';
  refuses(() => taskSpecFromWire(l), `${f}.sources[0].shuffle_url`);
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
    result: { counters: { 'tsmr/MAP_INPUT_RECORDS': 3 }, mapOutput: { partitions, records: 3, bytes: 15 } },
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

  const mutated = (fn: (m: AttemptOutcomePb) => void) => {
    const m = fromBinary(AttemptOutcomeSchema, toBinary(AttemptOutcomeSchema, ok));
    fn(m);
    return m;
  };
  const result = (m: AttemptOutcomePb) =>
    m.outcome.case === 'success' ? m.outcome.value.result! : assert.fail();
  refuses(
    () =>
      outcomeFromWire(
        mutated((m) => (result(m).mapOutput!.partitions[1].offset = 9n)),
        'outcome',
        { kind: 'map' },
      ),
    `${f}.map_output.partitions[1].offset`,
    /overlaps/,
  );
  refuses(
    () =>
      outcomeFromWire(
        mutated((m) => (result(m).mapOutput!.records = 4n)),
        'outcome',
        { kind: 'map' },
      ),
    `${f}.map_output.records`,
  );
  refuses(
    () =>
      outcomeFromWire(
        mutated((m) => (result(m).mapOutput!.bytes = 14n)),
        'outcome',
        { kind: 'map' },
      ),
    `${f}.map_output.bytes`,
  );
  refuses(
    () =>
      outcomeFromWire(
        mutated((m) => (result(m).counters['tsmr/X'] = -(2n ** 60n))),
        'outcome',
        { kind: 'map' },
      ),
    `${f}.counters["tsmr/X"]`,
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

test('a serialized TsmrError with details and a cause crosses the wire whole', () => {
  const cause = new TypeError('x is not a function');
  const error = serializeError(
    Object.assign(new Error('map failed'), {
      code: 'TSMR_USER_CODE',
      details: { file: '/d/in', offset: 42 },
      cause,
    }),
  );
  const back = outcomeFromWire(outcomeToWire({ ok: false, error, retriable: true }), 'o', { kind: 'map' });
  assert.deepStrictEqual(back, { ok: false, error, retriable: true });
});

test('wireResultOf keeps the index and file names, never worker paths', () => {
  const partitions = [{ offset: 0, length: 3, records: 1, crc32: 7 }];
  const map = wireResultOf({
    counters: { a: 1 },
    mapOutput: {
      dataPath: '/tmp/w/m.data',
      indexPath: '/tmp/w/m.index.json',
      partitions,
      records: 1,
      bytes: 3,
    },
  });
  assert.deepStrictEqual(map, { counters: { a: 1 }, mapOutput: { partitions, records: 1, bytes: 3 } });
  const reduce = wireResultOf({
    counters: {},
    output: { files: ['/out/_temporary/attempts/r-00001_0/part-r-00001'], records: 5, bytes: 50 },
    checksumsVerified: 4,
    status: 'done',
  });
  assert.deepStrictEqual(reduce, {
    counters: {},
    output: { fileNames: ['part-r-00001'], records: 5, bytes: 50 },
    checksumsVerified: 4,
    status: 'done',
  });
  assert.ok(!JSON.stringify(map).includes('/tmp/w'));
});
