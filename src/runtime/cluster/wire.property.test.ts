import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import fc from 'fast-check';
import type { SerializedError } from '../../errors.ts';
import { attemptIdOf, taskIdOf } from '../../engine/scheduler-types.ts';
import type { SegmentInfo } from '../../shuffle/run-writer.ts';
import { AttemptOutcomeSchema, TaskLeaseSchema } from './gen/tsmr/cluster/v1/task_pb.js';
import { taskSpecFromWire, taskSpecToWire } from './wire-task.ts';
import type { MapTaskSpec, ReduceTaskSpec, TaskSpec } from './wire-task.ts';
import { outcomeFromWire, outcomeToWire } from './wire-result.ts';
import type { AttemptOutcome } from './wire-result.ts';

const name = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,30}$/);
const text = fc.string({ unit: 'grapheme', maxLength: 40 });
const absPath = fc.array(name, { minLength: 1, maxLength: 4 }).map((p) => `/${p.join('/')}`);
const size = fc.nat({ max: 2 ** 40 });
const crc = fc.nat({ max: 0xffffffff });
const command = text.filter((s) => s.length > 0);
const sha = fc.stringMatching(/^[0-9a-f]{64}$/);

const params = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 12 }),
  fc.oneof(text, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null)),
  { maxKeys: 5 },
);

const jobRef = fc.oneof(
  fc.record({ kind: fc.constant('module' as const), bundleSha256: sha, exportName: name }),
  fc.record(
    {
      kind: fc.constant('streaming' as const),
      mapper: command,
      combiner: command,
      reducer: command,
    },
    { requiredKeys: ['kind', 'mapper'] },
  ),
);

function common(kind: 'map' | 'reduce', index: number, numReducers: number) {
  const taskId = taskIdOf(kind, index);
  return fc
    .record(
      {
        jobId: name,
        attempt: fc.nat({ max: 20 }),
        job: jobRef,
        params,
        crashAt: fc.double({ min: 0, max: 1, noNaN: true }),
      },
      { requiredKeys: ['jobId', 'attempt', 'job', 'params'] },
    )
    .map((c) => ({ ...c, taskId, attemptId: attemptIdOf(taskId, c.attempt), numReducers }));
}

const mapSpec: fc.Arbitrary<MapTaskSpec> = fc
  .record({ index: fc.nat({ max: 200_000 }), numReducers: fc.integer({ min: 1, max: 1000 }) })
  .chain(({ index, numReducers }) =>
    fc
      .record({
        common: common('map', index, numReducers),
        parts: fc.array(fc.record({ path: absPath, start: size, len: size, compressed: fc.boolean() }), {
          maxLength: 5,
        }),
        inputFormat: fc.constantFrom(
          { type: 'text' as const, encoding: 'utf8' as const },
          { type: 'text' as const, encoding: 'latin1' as const },
          { type: 'text' as const, encoding: 'buffer' as const },
          { type: 'jsonl' as const },
          { type: 'records' as const },
        ),
        sortBufferBytes: fc.integer({ min: 1024, max: Number.MAX_SAFE_INTEGER }),
        mergeFanIn: fc.integer({ min: 2, max: 1000 }),
      })
      .map(({ common: c, parts, ...rest }) => {
        const splitParts = parts.map((p) => ({
          path: p.path,
          start: p.start,
          end: p.start + p.len,
          compressed: p.compressed,
        }));
        const length = parts.reduce((n, p) => n + p.len, 0);
        return { kind: 'map' as const, ...c, split: { index, parts: splitParts, length }, ...rest };
      }),
  );

const reduceSpec: fc.Arbitrary<ReduceTaskSpec> = fc
  .record({ numReducers: fc.integer({ min: 1, max: 1000 }) })
  .chain(({ numReducers }) =>
    fc.record({ numReducers: fc.constant(numReducers), partition: fc.nat({ max: numReducers - 1 }) }),
  )
  .chain(({ numReducers, partition }) =>
    fc
      .record({
        common: common('reduce', partition, numReducers),
        sources: fc.array(
          fc.record({
            attempt: fc.nat({ max: 5 }),
            workerId: name,
            port: fc.integer({ min: 1, max: 65535 }),
            length: size,
            records: size,
            crc32: crc,
          }),
          { maxLength: 6 },
        ),
        mergeFanIn: fc.integer({ min: 2, max: 1000 }),
        output: fc.oneof(
          fc.record({
            kind: fc.constant('file' as const),
            outputDir: absPath,
            fileName: fc.constant(`part-r-${String(partition).padStart(5, '0')}`),
            format: fc.constantFrom(
              { type: 'text' as const, encoding: 'utf8' as const },
              { type: 'text' as const, encoding: 'latin1' as const },
              { type: 'jsonl' as const },
              { type: 'raw' as const },
            ),
          }),
          fc.record({ kind: fc.constant('records' as const), outputDir: absPath, fileName: name }),
        ),
      })
      .map(({ common: c, sources, ...rest }) => ({
        kind: 'reduce' as const,
        ...c,
        partition,
        sources: sources.map((s, i) => ({
          mapTaskId: taskIdOf('map', i),
          mapAttemptId: attemptIdOf(taskIdOf('map', i), s.attempt),
          workerId: s.workerId,
          shuffleUrl: `http://127.0.0.1:${s.port}`,
          length: s.length,
          records: s.records,
          crc32: s.crc32,
        })),
        ...rest,
      })),
  );

const errorNode = fc.record(
  {
    name: name,
    code: fc.stringMatching(/^TSMR_[A-Z_]{1,20}$/),
    message: text,
    stack: text,
    details: fc.dictionary(fc.string({ maxLength: 10 }), fc.oneof(text, fc.integer(), fc.boolean()), {
      maxKeys: 3,
    }),
  },
  { requiredKeys: ['name', 'message'] },
);
/** A cause chain of 1–9 errors (the first and up to 8 causes). */
const serializedError: fc.Arbitrary<SerializedError> = fc
  .array(errorNode, { minLength: 1, maxLength: 9 })
  .map((nodes) =>
    nodes.reduceRight<SerializedError | undefined>(
      (cause, n) => (cause ? { ...n, cause } : { ...n }),
      undefined,
    )!,
  );

const segments = fc.array(fc.record({ gap: fc.nat({ max: 100 }), length: size, records: size, crc32: crc }), {
  minLength: 1,
  maxLength: 8,
});
function layout(segs: Array<{ gap: number; length: number; records: number; crc32: number }>): SegmentInfo[] {
  let offset = 0;
  return segs.map((s) => {
    offset += s.gap;
    const info = { offset, length: s.length, records: s.records, crc32: s.crc32 };
    offset += s.length;
    return info;
  });
}
const counters = fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), fc.maxSafeInteger(), {
  maxKeys: 6,
});

const mapOutcome: fc.Arbitrary<AttemptOutcome> = fc
  .record(
    { counters, segs: segments, slack: fc.nat({ max: 10 }), status: text },
    { requiredKeys: ['counters', 'segs', 'slack'] },
  )
  .map(({ counters: c, segs, slack, status }) => {
    const partitions = layout(segs);
    const last = partitions[partitions.length - 1];
    const records = partitions.reduce((n, p) => n + p.records, 0);
    const result = {
      counters: c,
      mapOutput: { partitions, records, bytes: last.offset + last.length + slack },
      ...(status === undefined ? {} : { status }),
    };
    return { ok: true as const, result };
  });

const reduceOutcome: fc.Arbitrary<AttemptOutcome> = fc
  .record(
    {
      counters,
      fileNames: fc.array(name, { maxLength: 3 }),
      records: size,
      bytes: size,
      segment: fc.record({ offset: size, length: size, records: size, crc32: crc }),
      checksumsVerified: fc.nat({ max: 200_000 }),
    },
    { requiredKeys: ['counters', 'fileNames', 'records', 'bytes', 'checksumsVerified'] },
  )
  .map(({ counters: c, fileNames, records, bytes, segment, checksumsVerified }) => ({
    ok: true as const,
    result: {
      counters: c,
      output: { fileNames, records, bytes, ...(segment ? { segment } : {}) },
      checksumsVerified,
    },
  }));

const failure: fc.Arbitrary<AttemptOutcome> = fc.record({
  ok: fc.constant(false as const),
  error: serializedError,
  retriable: fc.boolean(),
});

/** fast-check may build objects without a prototype; the wire gives plain ones. */
const plain = <T>(v: T): T => structuredClone(v);

function throughBytes(spec: TaskSpec): TaskSpec {
  const bytes = toBinary(TaskLeaseSchema, taskSpecToWire(spec));
  return taskSpecFromWire(fromBinary(TaskLeaseSchema, bytes));
}

test('task specs survive the wire (map and reduce, through protobuf bytes)', () => {
  fc.assert(
    fc.property(fc.oneof(mapSpec, reduceSpec), (spec) =>
      assert.deepStrictEqual(throughBytes(spec), plain(spec)),
    ),
    { numRuns: 300 },
  );
});

test('attempt outcomes survive the wire (map and reduce successes, failures with cause chains)', () => {
  const roundTrip = (o: AttemptOutcome, kind: 'map' | 'reduce') => {
    const bytes = toBinary(AttemptOutcomeSchema, outcomeToWire(o));
    return outcomeFromWire(fromBinary(AttemptOutcomeSchema, bytes), 'outcome', { kind });
  };
  fc.assert(
    fc.property(mapOutcome, (o) => assert.deepStrictEqual(roundTrip(o, 'map'), plain(o))),
    { numRuns: 200 },
  );
  fc.assert(
    fc.property(reduceOutcome, (o) => assert.deepStrictEqual(roundTrip(o, 'reduce'), plain(o))),
    { numRuns: 200 },
  );
  fc.assert(
    fc.property(failure, fc.constantFrom('map' as const, 'reduce' as const), (o, kind) =>
      assert.deepStrictEqual(roundTrip(o, kind), plain(o)),
    ),
    { numRuns: 200 },
  );
});
