import { test } from 'node:test';
import fc from 'fast-check';
import { attemptIdOf, taskIdOf } from '../../engine/scheduler-types.ts';
import type { SegmentInfo } from '../../shuffle/run-writer.ts';
import type { AttemptOutcome, TaskProgress, TaskResult } from '../../task/messages.ts';
import { AttemptOutcomeSchema, TaskLeaseSchema } from './gen/tsmr/cluster/v1/task_pb.js';
import { outcomeFromWire, outcomeToWire } from './wire-result.ts';
import { taskSpecFromWire, taskSpecToWire } from './wire-task.ts';
import type { MapTaskSpec, ReduceTaskSpec } from './wire-task.ts';
import {
  absPath,
  assertRoundTrips,
  full,
  jobId,
  jobRef,
  name,
  params,
  serializedError,
  text,
} from './wire-test-support.ts';

const size = fc.nat({ max: 2 ** 40 });
const crc = fc.nat({ max: 0xffffffff });
/** `stat`'s `mtimeMs`: epoch ms with a fraction. */
const mtimeMs = fc.double({ min: 0, max: 4e12, noNaN: true });

function common(kind: 'map' | 'reduce', index: number, numReducers: number) {
  return fc
    .record(
      {
        jobId,
        attempt: fc.nat({ max: 20 }),
        job: jobRef,
        params,
        crashAt: fc.double({ min: 0, max: 1, noNaN: true }),
        files: fc.array(
          fc.record({
            name: fc.string({ minLength: 1, maxLength: 20 }).filter((n) => !/[/\0]/.test(n)),
            path: absPath,
            size,
            sha256: fc
              .uint8Array({ minLength: 32, maxLength: 32 })
              .map((b) => Buffer.from(b).toString('hex')),
          }),
          { minLength: 1, maxLength: 3 },
        ),
      },
      { requiredKeys: ['jobId', 'attempt', 'job', 'params'] },
    )
    .map((c) => ({ ...c, taskId: taskIdOf(kind, index), numReducers }));
}

const mapSpec: fc.Arbitrary<MapTaskSpec> = fc
  .record({ index: fc.nat({ max: 200_000 }), numReducers: fc.integer({ min: 1, max: 1000 }) })
  .chain(({ index, numReducers }) =>
    fc
      .record({
        common: common('map', index, numReducers),
        parts: fc.array(
          fc.record({ path: absPath, start: size, len: size, tail: size, compressed: fc.boolean(), mtimeMs }),
          { maxLength: 5 },
        ),
        inputFormat: fc.oneof(
          fc.constantFrom(
            { type: 'text' as const, encoding: 'utf8' as const },
            { type: 'text' as const, encoding: 'latin1' as const },
            { type: 'text' as const, encoding: 'buffer' as const },
            { type: 'jsonl' as const },
            { type: 'records' as const },
          ),
          fc
            .integer({ min: 1, max: 1 << 20 })
            .map((recordLength) => ({ type: 'fixed' as const, recordLength })),
        ),
        sortBufferBytes: fc.integer({ min: 1024, max: Number.MAX_SAFE_INTEGER }),
        mergeFanIn: fc.integer({ min: 2, max: 1000 }),
        input: fc.option(fc.nat({ max: 999 }), { nil: undefined }),
        skip: fc.option(
          fc.record(
            {
              records: fc.array(
                fc.record(
                  {
                    file: absPath,
                    offset: size,
                    index: size,
                    error: fc.record({
                      code: fc.constantFrom('TSMR_USER_CODE', 'TSMR_BAD_RECORD'),
                      message: fc.string({ maxLength: 40 }),
                    }),
                  },
                  { requiredKeys: ['file', 'offset', 'error'] },
                ),
                { maxLength: 3 },
              ),
              output: fc.record({ dir: absPath, fileName: name }),
            },
            { requiredKeys: ['records'] },
          ),
          { nil: undefined },
        ),
        splitPoints: fc.option(
          fc.uniqueArray(fc.uint8Array({ minLength: 1, maxLength: 12 }), {
            maxLength: numReducers - 1,
            selector: (b) => Buffer.from(b).toString('hex'),
          }),
          { nil: undefined },
        ),
      })
      .map(({ common: c, parts, splitPoints, input, skip, ...rest }) => {
        const splitParts = parts.map((p) => ({
          path: p.path,
          start: p.start,
          end: p.start + p.len,
          compressed: p.compressed,
          size: p.start + p.len + p.tail,
          mtimeMs: p.mtimeMs,
        }));
        const length = parts.reduce((n, p) => n + p.len, 0);
        const sorted = splitPoints?.map((b) => Buffer.from(b)).sort(Buffer.compare);
        const totalOrder = sorted && { splitPoints: sorted.map((b) => b.toString('base64')) };
        return {
          kind: 'map' as const,
          ...c,
          split: { index, parts: splitParts, length, ...(input !== undefined && { input }) },
          ...rest,
          ...(totalOrder && { totalOrder }),
          ...(skip && { skip }),
        };
      }),
  );

const location = fc.oneof(
  fc.record({
    kind: fc.constant('worker' as const),
    workerId: name,
    shuffleUrl: fc.integer({ min: 1, max: 65535 }).map((port) => `http://127.0.0.1:${port}`),
  }),
  fc.record({ kind: fc.constant('local' as const), path: absPath }),
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
        sources: fc.uniqueArray(
          fc.record({
            mapIndex: fc.nat({ max: 200_000 }),
            attempt: fc.nat({ max: 5 }),
            segment: fc.record({ offset: size, length: size, records: size, crc32: crc }),
            location,
          }),
          { maxLength: 6, selector: (s) => s.mapIndex },
        ),
        mergeFanIn: fc.integer({ min: 2, max: 1000 }),
        output: fc.oneof(
          fc.record({
            kind: fc.constant('file' as const),
            dir: absPath,
            fileName: fc.constant(`part-r-${String(partition).padStart(5, '0')}`),
            format: fc.constantFrom(
              { type: 'text' as const, encoding: 'utf8' as const },
              { type: 'text' as const, encoding: 'latin1' as const },
              { type: 'jsonl' as const },
              { type: 'raw' as const },
            ),
          }),
          fc.record({ kind: fc.constant('records' as const), fileName: name }),
        ),
      })
      .map(({ common: c, sources, ...rest }) => ({
        kind: 'reduce' as const,
        ...c,
        partition,
        sources: sources
          .sort((x, y) => x.mapIndex - y.mapIndex)
          .map(({ mapIndex, attempt, segment, location: l }) => ({
            mapTaskId: taskIdOf('map', mapIndex),
            mapAttemptId: attemptIdOf(taskIdOf('map', mapIndex), attempt),
            segment,
            location: l,
          })),
        ...rest,
      })),
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

/** What an attempt read (`TaskResult.input`). */
const input = full<TaskProgress>({ bytes: size, records: size }, {});

/**
 * A map attempt's result: every field of `TaskResult` but the reduce ones
 * (`full` makes a field added to `TaskResult` later fail the typecheck here).
 */
const mapOutcome: fc.Arbitrary<AttemptOutcome> = full<Omit<TaskResult, 'output' | 'checksumsVerified'>>(
  {
    counters,
    input,
    // Laid out below: segments in order, with gaps and slack at the end.
    mapOutput: fc.record({ segs: segments, slack: fc.nat({ max: 10 }) }).map(({ segs, slack }) => {
      const partitions = layout(segs);
      const last = partitions[partitions.length - 1];
      const records = partitions.reduce((n, p) => n + p.records, 0);
      return { partitions, records, bytes: last.offset + last.length + slack };
    }),
    status: text,
  },
  // A map result always has its map output.
  { mapOutput: false, status: true },
).map((result) => ({ ok: true as const, result }));

/** A reduce attempt's result: every field of `TaskResult` but `mapOutput`. */
const reduceOutcome: fc.Arbitrary<AttemptOutcome> = full<Omit<TaskResult, 'mapOutput'>>(
  {
    counters,
    input,
    output: full<NonNullable<TaskResult['output']>>(
      {
        files: fc.array(absPath, { maxLength: 3 }),
        records: size,
        bytes: size,
        segment: fc.record({ offset: size, length: size, records: size, crc32: crc }),
      },
      { segment: true },
    ),
    checksumsVerified: fc.nat({ max: 200_000 }),
    status: text,
  },
  // A reduce result always has its output and a count of verified checksums (0 on the wire).
  { output: false, checksumsVerified: false, status: true },
).map((result) => ({ ok: true as const, result }));

const failure: fc.Arbitrary<AttemptOutcome> = fc.record({
  ok: fc.constant(false as const),
  error: serializedError,
  retriable: fc.boolean(),
});

test('task specs survive the wire (map and reduce, every job ref and source location, through protobuf bytes)', () => {
  assertRoundTrips(
    fc.oneof(mapSpec, reduceSpec),
    TaskLeaseSchema,
    taskSpecToWire,
    (m) => taskSpecFromWire(m),
    300,
  );
});

test('attempt outcomes survive the wire (map and reduce successes, failures with retriable cause chains)', () => {
  for (const kind of ['map', 'reduce'] as const) {
    const back = (m: Parameters<typeof outcomeFromWire>[0]) => outcomeFromWire(m, 'outcome', { kind });
    assertRoundTrips(kind === 'map' ? mapOutcome : reduceOutcome, AttemptOutcomeSchema, outcomeToWire, back);
    assertRoundTrips(failure, AttemptOutcomeSchema, outcomeToWire, back);
  }
});
