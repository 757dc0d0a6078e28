/**
 * Task leases (`proto/tsmr/cluster/v1/task.proto`): what a coordinator hands
 * to workers, and their checked conversions.
 *
 * A {@link TaskSpec} is a `TaskMessage` (`src/task/messages.ts`) whose job
 * reference names a bundle by its SHA-256 instead of a module by its URL
 * ({@link WireJobRef}); nothing else differs. A worker puts the URL of its
 * cached copy of the bundle in the job reference's place and runs the
 * message with `runTask(msg, body, scratchDir, onProgress)`, in a scratch
 * directory of its own.
 */
import { create } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { parseAttemptId, taskIdOf } from '../../engine/scheduler-types.ts';
import type {
  BadRecord,
  MapOutputLocation,
  MapOutputSource,
  MapTaskMessage,
  ReduceOutputSpec,
  ReduceTaskMessage,
  TotalOrderSpec,
} from '../../task/messages.ts';
import { TaskLeaseSchema } from './gen/tsmr/cluster/v1/task_pb.js';
import type * as pb from './gen/tsmr/cluster/v1/task_pb.js';
import {
  FILE_NAME,
  absPath,
  badMessage,
  big,
  httpUrl,
  int,
  jobIdStr,
  list,
  mapAttemptOf,
  noCase,
  num64,
  real,
  required,
  sha256Str,
  str,
  taskIdStr,
  wireLimits,
  workerIdStr,
} from './wire-check.ts';
import {
  inputFormatFromWire,
  inputFormatToWire,
  jobRefFromWire,
  jobRefToWire,
  outputFormatFromWire,
  outputFormatToWire,
  paramsFromWire,
  paramsToWire,
  segmentFromWire,
  segmentToWire,
  splitFromWire,
  splitToWire,
} from './wire-common.ts';
import type { WireJobRef } from './wire-common.ts';

/** A task message with a {@link WireJobRef}. */
type WithWireJob<M> = Omit<M, 'job'> & { job: WireJobRef };

/**
 * A map lease; `uploadedInput`: the split's files are in-memory input on the
 * coordinator, which the worker copies before the attempt (`worker-input.ts`).
 */
export type MapTaskSpec = WithWireJob<MapTaskMessage> & { uploadedInput?: boolean };
export type ReduceTaskSpec = WithWireJob<ReduceTaskMessage>;
export type TaskSpec = MapTaskSpec | ReduceTaskSpec;

/** Fields of `TaskCommon` (`messages.ts`), as a spec carries them. */
type SpecCommon = Omit<
  MapTaskSpec,
  | 'kind'
  | 'split'
  | 'inputFormat'
  | 'sortBufferBytes'
  | 'mergeFanIn'
  | 'totalOrder'
  | 'uploadedInput'
  | 'output'
>;

/** Largest merge fan-in accepted. */
const MAX_FAN_IN = 1_000_000;

export function taskSpecToWire(spec: TaskSpec): pb.TaskLease {
  const header = {
    jobId: spec.jobId,
    taskId: spec.taskId,
    attempt: spec.attempt,
    job: jobRefToWire(spec.job),
    params: paramsToWire(spec.params),
    numReducers: spec.numReducers,
    crashAt: spec.crashAt,
    files: (spec.files ?? []).map((f) => ({ ...f, size: big(f.size, 'SideFile.size') })),
  };
  const task: MessageInitShape<typeof TaskLeaseSchema>['task'] =
    spec.kind === 'map'
      ? {
          case: 'map',
          value: {
            header,
            split: splitToWire(spec.split),
            inputFormat: inputFormatToWire(spec.inputFormat),
            sortBufferBytes: big(spec.sortBufferBytes, 'MapTask.sort_buffer_bytes'),
            mergeFanIn: spec.mergeFanIn,
            totalOrder: spec.totalOrder && {
              splitPoints: spec.totalOrder.splitPoints.map((p) => Buffer.from(p, 'base64')),
            },
            skip: spec.skip && {
              records: spec.skip.records.map((r) => ({
                file: r.file,
                offset: big(r.offset, 'BadRecord.offset'),
                index: r.index === undefined ? undefined : big(r.index, 'BadRecord.index'),
                errorCode: r.error.code,
                errorMessage: r.error.message,
              })),
              output: spec.skip.output,
            },
            uploadedInput: spec.uploadedInput ?? false,
            output: spec.output && { kind: outputToWire(spec.output) },
          },
        }
      : {
          case: 'reduce',
          value: {
            header,
            partition: spec.partition,
            sources: spec.sources.map((s) => ({
              mapTaskId: s.mapTaskId,
              mapAttemptId: s.mapAttemptId,
              segment: segmentToWire(s.segment, 'MapOutputSource.segment'),
              location: locationToWire(s.location),
            })),
            mergeFanIn: spec.mergeFanIn,
            output: { kind: outputToWire(spec.output) },
          },
        };
  return create(TaskLeaseSchema, { task });
}

function locationToWire(l: MapOutputLocation): MessageInitShape<typeof pb.MapOutputSourceSchema>['location'] {
  return l.kind === 'worker'
    ? { case: 'worker', value: { workerId: l.workerId, shuffleUrl: l.shuffleUrl } }
    : { case: 'local', value: { path: l.path } };
}

function outputToWire(o: ReduceOutputSpec): MessageInitShape<typeof pb.ReduceOutputSchema>['kind'] {
  return o.kind === 'file'
    ? { case: 'file', value: { dir: o.dir, fileName: o.fileName, format: outputFormatToWire(o.format) } }
    : { case: 'records', value: { fileName: o.fileName } };
}

/** @throws TsmrError `TSMR_BAD_MESSAGE` naming the first field that breaks its rule. */
export function taskSpecFromWire(lease: pb.TaskLease, field = 'TaskLease'): TaskSpec {
  const { task } = lease;
  if (task.case === 'map') {
    const f = `${field}.map`;
    const m = task.value;
    const common = headerFromWire(m.header, `${f}.header`, 'map');
    const split = splitFromWire(m.split, `${f}.split`);
    if (common.taskId !== taskIdOf('map', split.index)) {
      throw badMessage(`${f}.split.index`, `is ${split.index}, not the index of ${common.taskId}`);
    }
    // A map-only job (R = 0) writes its output; any other map writes a map output.
    if ((common.numReducers === 0) !== (m.output !== undefined)) {
      throw badMessage(`${f}.output`, m.output ? 'must be absent when R > 0' : 'is required when R = 0');
    }
    return {
      kind: 'map',
      ...common,
      split,
      inputFormat: inputFormatFromWire(m.inputFormat, `${f}.input_format`),
      sortBufferBytes: num64(m.sortBufferBytes, `${f}.sort_buffer_bytes`, 1024),
      mergeFanIn: int(m.mergeFanIn, `${f}.merge_fan_in`, 2, MAX_FAN_IN),
      ...(m.totalOrder && {
        totalOrder: totalOrderFromWire(m.totalOrder, common.numReducers, `${f}.total_order`),
      }),
      ...(m.skip && { skip: skipFromWire(m.skip, `${f}.skip`) }),
      ...(m.uploadedInput && { uploadedInput: true }),
      ...(m.output && { output: outputFromWire(m.output, `${f}.output`) }),
    };
  }
  if (task.case === 'reduce') {
    const f = `${field}.reduce`;
    const r = task.value;
    const common = headerFromWire(r.header, `${f}.header`, 'reduce');
    if (common.numReducers === 0) throw badMessage(`${f}.header.num_reducers`, 'must be at least 1');
    const partition = int(r.partition, `${f}.partition`, 0, common.numReducers - 1);
    if (common.taskId !== taskIdOf('reduce', partition)) {
      throw badMessage(`${f}.partition`, `is ${partition}, not the partition of ${common.taskId}`);
    }
    return {
      kind: 'reduce',
      ...common,
      partition,
      sources: sourcesFromWire(r.sources, `${f}.sources`),
      mergeFanIn: int(r.mergeFanIn, `${f}.merge_fan_in`, 2, MAX_FAN_IN),
      output: outputFromWire(required(r.output, `${f}.output`), `${f}.output`),
    };
  }
  throw noCase(field);
}

function headerFromWire(h: pb.TaskHeader | undefined, field: string, kind: 'map' | 'reduce'): SpecCommon {
  const m = required(h, field);
  const common: SpecCommon = {
    jobId: jobIdStr(m.jobId, `${field}.job_id`),
    taskId: taskIdStr(m.taskId, `${field}.task_id`, kind),
    attempt: int(m.attempt, `${field}.attempt`, 0, 999_999_999),
    job: jobRefFromWire(m.job, `${field}.job`),
    params: paramsFromWire(m.params, `${field}.params`),
    numReducers: int(m.numReducers, `${field}.num_reducers`, 0, wireLimits.reducers),
  };
  if (m.crashAt !== undefined) common.crashAt = real(m.crashAt, `${field}.crash_at`, 0, 1);
  const files = list(m.files, `${field}.files`, MAX_SIDE_FILES).map((s, i) => {
    const f = `${field}.files[${i}]`;
    const name = str(s.name, `${f}.name`, { max: 255 });
    if (/[/\0]/.test(name)) throw badMessage(`${f}.name`, 'must not hold / or NUL');
    return {
      name,
      path: absPath(s.path, `${f}.path`),
      size: num64(s.size, `${f}.size`),
      sha256: sha256Str(s.sha256, `${f}.sha256`),
    };
  });
  if (files.length > 0) common.files = files;
  return common;
}

/** Most side files of a job, and most bad records a map attempt skips. */
const MAX_SIDE_FILES = 1000;
const MAX_SKIPPED = 1_000_000;

function skipFromWire(m: pb.SkipRecords, field: string): NonNullable<MapTaskMessage['skip']> {
  const records = list(m.records, `${field}.records`, MAX_SKIPPED).map((r, i) => {
    const f = `${field}.records[${i}]`;
    const record: BadRecord = {
      file: absPath(r.file, `${f}.file`),
      offset: num64(r.offset, `${f}.offset`),
      error: {
        code: str(r.errorCode, `${f}.error_code`, { max: 64, pattern: /^TSMR_[A-Z_]+$/ }),
        message: str(r.errorMessage, `${f}.error_message`, { max: wireLimits.short, empty: true }),
      },
    };
    if (r.index !== undefined) record.index = num64(r.index, `${f}.index`);
    return record;
  });
  if (m.output === undefined) return { records };
  const o = m.output;
  return {
    records,
    output: {
      dir: absPath(o.dir, `${field}.output.dir`),
      fileName: str(o.fileName, `${field}.output.file_name`, { max: 255, pattern: FILE_NAME }),
    },
  };
}

/** Sources in strictly increasing map task order, each of a map attempt of its task. */
function sourcesFromWire(sources: readonly pb.MapOutputSource[], field: string): MapOutputSource[] {
  let previous = -1;
  return list(sources, field, wireLimits.sources).map((s, i) => {
    const f = `${field}[${i}]`;
    const { mapTaskId, mapAttemptId } = mapAttemptOf(s, f);
    const parsed = parseAttemptId(mapAttemptId)!;
    if (parsed.index <= previous) {
      throw badMessage(`${f}.map_task_id`, `is ${mapTaskId}, not after the map task of the source before`);
    }
    previous = parsed.index;
    return {
      mapTaskId,
      mapAttemptId,
      segment: segmentFromWire(s.segment, `${f}.segment`),
      location: locationFromWire(s.location, f),
    };
  });
}

function locationFromWire(l: pb.MapOutputSource['location'], field: string): MapOutputLocation {
  if (l.case === 'worker') {
    return {
      kind: 'worker',
      workerId: workerIdStr(l.value.workerId, `${field}.worker.worker_id`),
      shuffleUrl: httpUrl(l.value.shuffleUrl, `${field}.worker.shuffle_url`),
    };
  }
  if (l.case === 'local') return { kind: 'local', path: absPath(l.value.path, `${field}.local.path`) };
  throw noCase(`${field}.location`);
}

function outputFromWire(o: pb.ReduceOutput, field: string): ReduceOutputSpec {
  const { kind } = o;
  const fileName = (v: string, f: string) => str(v, f, { max: 255, pattern: FILE_NAME });
  if (kind.case === 'file') {
    const f = `${field}.file`;
    return {
      kind: 'file',
      dir: absPath(kind.value.dir, `${f}.dir`),
      fileName: fileName(kind.value.fileName, `${f}.file_name`),
      format: outputFormatFromWire(kind.value.format, `${f}.format`),
    };
  }
  if (kind.case === 'records') {
    return { kind: 'records', fileName: fileName(kind.value.fileName, `${field}.records.file_name`) };
  }
  throw noCase(field);
}

/** Longest split point accepted: 64 KiB of encoded key. */
const MAX_SPLIT_POINT_BYTES = 64 * 1024;

/** Checks a total order's split points: at most R − 1, each bounded, strictly ascending as bytes. */
function totalOrderFromWire(m: pb.TotalOrder, numReducers: number, field: string): TotalOrderSpec {
  const points = list(m.splitPoints, `${field}.split_points`, Math.max(0, numReducers - 1));
  points.forEach((p, i) => {
    if (p.length > MAX_SPLIT_POINT_BYTES)
      throw badMessage(`${field}.split_points[${i}]`, 'is longer than 64 KiB');
    if (i > 0 && Buffer.compare(points[i - 1] as Uint8Array, p) >= 0) {
      throw badMessage(`${field}.split_points[${i}]`, 'is not above the one before');
    }
  });
  return { splitPoints: points.map((p) => Buffer.from(p).toString('base64')) };
}
