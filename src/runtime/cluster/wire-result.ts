/**
 * Attempt outcomes (`AttemptOutcome` of `proto/tsmr/cluster/v1/task.proto`)
 * to and from `AttemptOutcome` of `src/task/messages.ts`:
 * `{ ok: true, result, mapOutput? } | { ok: false, error, retriable }`.
 *
 * A map success crosses the wire without its location (`mapOutput`): the
 * output is on the worker that reports it, and the coordinator locates it
 * there (`{ kind: 'worker', workerId, shuffleUrl }` from the worker's
 * registration), so a worker cannot place an output on another, and a path
 * in the worker's scratch never leaves it.
 */
import { create } from '@bufbuild/protobuf';
import type { TaskKind } from '../../engine/scheduler-types.ts';
import type { AttemptOutcome, MapOutputIndex, TaskResult } from '../../task/messages.ts';
import { AttemptOutcomeSchema } from './gen/tsmr/cluster/v1/task_pb.js';
import type * as pb from './gen/tsmr/cluster/v1/task_pb.js';
import {
  absPath,
  badMessage,
  big,
  int,
  int64,
  list,
  noCase,
  num64,
  optStr,
  required,
  str,
  wireLimits,
} from './wire-check.ts';
import { errorFromWire, errorToWire, segmentFromWire, segmentToWire } from './wire-common.ts';

/** Leaves out a map success's location (see the module doc). */
export function outcomeToWire(o: AttemptOutcome): pb.AttemptOutcome {
  if (!o.ok) {
    return create(AttemptOutcomeSchema, {
      outcome: { case: 'failure', value: { error: errorToWire(o.error), retriable: o.retriable } },
    });
  }
  const r = o.result;
  const counters = Object.fromEntries(
    Object.entries(r.counters).map(([name, v]) => [name, big(v, `counter ${name}`, true)]),
  );
  const map = r.mapOutput;
  const output = r.output;
  return create(AttemptOutcomeSchema, {
    outcome: {
      case: 'success',
      value: {
        result: {
          counters,
          mapOutput: map && {
            partitions: map.partitions.map((s) => segmentToWire(s, 'MapOutputIndex.partitions')),
            records: big(map.records, 'MapOutputIndex.records'),
            bytes: big(map.bytes, 'MapOutputIndex.bytes'),
          },
          reduceOutput: output && {
            files: output.files,
            records: big(output.records, 'ReduceOutputSummary.records'),
            bytes: big(output.bytes, 'ReduceOutputSummary.bytes'),
            segment: output.segment && segmentToWire(output.segment, 'ReduceOutputSummary.segment'),
          },
          checksumsVerified: r.checksumsVerified ?? 0,
          status: r.status,
          input: {
            bytes: big(Math.round(r.input.bytes), 'InputRead.bytes'),
            records: big(r.input.records, 'InputRead.records'),
          },
        },
      },
    },
  });
}

/**
 * @param expect.kind the attempt's task kind (from its attempt id): a map
 *   success must carry a map output index and a reduce success an output summary.
 * @param expect.numReducers when given, a map output index must have that many partitions.
 * @returns the outcome; a map success has no `mapOutput` location (see the module doc).
 * @throws TsmrError `TSMR_BAD_MESSAGE` naming the first field that breaks its rule.
 */
export function outcomeFromWire(
  m: pb.AttemptOutcome | undefined,
  field: string,
  expect: { kind: TaskKind; numReducers?: number },
): AttemptOutcome {
  const { outcome } = required(m, field);
  if (outcome.case === 'failure') {
    const error = errorFromWire(
      required(outcome.value.error, `${field}.failure.error`),
      `${field}.failure.error`,
    );
    return { ok: false, error, retriable: outcome.value.retriable };
  }
  if (outcome.case !== 'success') throw noCase(field);
  const f = `${field}.success.result`;
  const r = required(outcome.value.result, f);
  const names = list(Object.keys(r.counters), `${f}.counters`, wireLimits.counters);
  const input = required(r.input, `${f}.input`);
  const result: TaskResult = {
    counters: Object.fromEntries(
      names.map((name) => {
        str(name, `${f}.counters name`, { max: wireLimits.short });
        return [name, int64(r.counters[name], `${f}.counters[${JSON.stringify(name.slice(0, 40))}]`)];
      }),
    ),
    input: {
      bytes: num64(input.bytes, `${f}.input.bytes`),
      records: num64(input.records, `${f}.input.records`),
    },
  };
  if (expect.kind === 'map') {
    if (r.reduceOutput !== undefined)
      throw badMessage(`${f}.reduce_output`, 'must be absent for a map attempt');
    result.mapOutput = mapIndexFromWire(
      required(r.mapOutput, `${f}.map_output`),
      `${f}.map_output`,
      expect.numReducers,
    );
  } else {
    if (r.mapOutput !== undefined) throw badMessage(`${f}.map_output`, 'must be absent for a reduce attempt');
    const o = required(r.reduceOutput, `${f}.reduce_output`);
    const fo = `${f}.reduce_output`;
    result.output = {
      files: list(o.files, `${fo}.files`, wireLimits.outputFiles).map((p, i) =>
        absPath(p, `${fo}.files[${i}]`),
      ),
      records: num64(o.records, `${fo}.records`),
      bytes: num64(o.bytes, `${fo}.bytes`),
    };
    if (o.segment !== undefined) result.output.segment = segmentFromWire(o.segment, `${fo}.segment`);
    result.checksumsVerified = int(r.checksumsVerified, `${f}.checksums_verified`, 0, wireLimits.sources);
  }
  const status = optStr(r.status, `${f}.status`, { max: wireLimits.short, empty: true });
  if (status !== undefined) result.status = status;
  return { ok: true, result };
}

function mapIndexFromWire(
  m: pb.MapOutputIndex,
  field: string,
  numReducers: number | undefined,
): MapOutputIndex {
  const partitions = list(m.partitions, `${field}.partitions`, wireLimits.reducers).map((s, i) =>
    segmentFromWire(s, `${field}.partitions[${i}]`),
  );
  if (numReducers !== undefined && partitions.length !== numReducers) {
    throw badMessage(
      `${field}.partitions`,
      `has ${partitions.length} entries, not one per reducer (${numReducers})`,
    );
  }
  const records = num64(m.records, `${field}.records`);
  const bytes = num64(m.bytes, `${field}.bytes`);
  let end = 0;
  let sum = 0;
  partitions.forEach((s, i) => {
    if (s.offset < end) throw badMessage(`${field}.partitions[${i}].offset`, 'overlaps the segment before');
    end = s.offset + s.length;
    sum += s.records;
  });
  if (end > bytes) throw badMessage(`${field}.bytes`, `is ${bytes}, but the segments end at ${end}`);
  if (sum !== records) throw badMessage(`${field}.records`, `is ${records}, but the segments hold ${sum}`);
  return { partitions, records, bytes };
}
