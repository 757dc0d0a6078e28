/**
 * Task leases (`proto/tsmr/cluster/v1/task.proto`): the path-free task specs
 * a coordinator hands to workers, and their checked conversions.
 *
 * A {@link TaskSpec} is a `TaskMessage` (`src/task/messages.ts`) without what
 * belongs to the worker: its scratch directories (`dir`, `tmpDir`), the local
 * URL of the job bundle (`JobRef` becomes {@link WireJobRef}), and the paths
 * of map output files (a reduce gets {@link MapOutputSource}s to fetch). A
 * worker adds those to run it.
 */
import { create } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { NormalizedInputFormat } from '../../io/record-reader.ts';
import type { NormalizedOutputFormat } from '../../io/output-writer.ts';
import type { Split } from '../../io/splits.ts';
import { TaskLeaseSchema } from './gen/tsmr/cluster/v1/task_pb.js';
import type * as pb from './gen/tsmr/cluster/v1/task_pb.js';
import {
  ATTEMPT_ID,
  FILE_NAME,
  TASK_ID,
  absPath,
  badMessage,
  big,
  httpUrl,
  int,
  list,
  noCase,
  num64,
  real,
  required,
  str,
  wireLimits,
} from './wire-check.ts';
import {
  inputFormatFromWire,
  inputFormatToWire,
  jobRefFromWire,
  jobRefToWire,
  nameFromWire,
  outputFormatFromWire,
  outputFormatToWire,
  paramsFromWire,
  paramsToWire,
  splitFromWire,
  splitToWire,
} from './wire-common.ts';
import type { Params, WireJobRef } from './wire-common.ts';

/** What every task spec carries. */
export interface TaskSpecCommon {
  jobId: string;
  /** `m-00003` / `r-00001`. */
  taskId: string;
  attempt: number;
  /** `<taskId>_<attempt>`. */
  attemptId: string;
  job: WireJobRef;
  params: Params;
  numReducers: number;
  /** Failure injection: crash after this fraction (0–1) of the input. */
  crashAt?: number;
}

export interface MapTaskSpec extends TaskSpecCommon {
  kind: 'map';
  split: Split;
  inputFormat: NormalizedInputFormat;
  sortBufferBytes: number;
  mergeFanIn: number;
}

/** One map output segment a reduce attempt fetches from the worker holding it. Sizes are bytes. */
export interface MapOutputSource {
  mapTaskId: string;
  mapAttemptId: string;
  workerId: string;
  /** `http(s)://host:port` of that worker's shuffle server. */
  shuffleUrl: string;
  length: number;
  records: number;
  crc32: number;
}

/** Where a reduce attempt writes: under `attemptDir(outputDir, taskId, attempt)` on the shared file system. */
export type ReduceOutputTarget =
  | { kind: 'file'; outputDir: string; fileName: string; format: NormalizedOutputFormat }
  | { kind: 'records'; outputDir: string; fileName: string };

export interface ReduceTaskSpec extends TaskSpecCommon {
  kind: 'reduce';
  partition: number;
  /** Segment `partition` of every map output, in map task order. */
  sources: MapOutputSource[];
  mergeFanIn: number;
  output: ReduceOutputTarget;
}

export type TaskSpec = MapTaskSpec | ReduceTaskSpec;

export function taskSpecToWire(spec: TaskSpec): pb.TaskLease {
  const header = {
    jobId: spec.jobId,
    taskId: spec.taskId,
    attempt: spec.attempt,
    attemptId: spec.attemptId,
    job: jobRefToWire(spec.job),
    params: paramsToWire(spec.params),
    numReducers: spec.numReducers,
    crashAt: spec.crashAt,
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
          },
        }
      : {
          case: 'reduce',
          value: {
            header,
            partition: spec.partition,
            sources: spec.sources.map((s) => ({
              ...s,
              length: big(s.length, 'MapOutputSource.length'),
              records: big(s.records, 'MapOutputSource.records'),
            })),
            mergeFanIn: spec.mergeFanIn,
            output: { kind: outputTargetToWire(spec.output) },
          },
        };
  return create(TaskLeaseSchema, { task });
}

function outputTargetToWire(o: ReduceOutputTarget): MessageInitShape<typeof pb.ReduceOutputSchema>['kind'] {
  return o.kind === 'file'
    ? {
        case: 'file',
        value: { outputDir: o.outputDir, fileName: o.fileName, format: outputFormatToWire(o.format) },
      }
    : { case: 'records', value: { outputDir: o.outputDir, fileName: o.fileName } };
}

/** @throws TsmrError `TSMR_BAD_MESSAGE` naming the first field that breaks its rule. */
export function taskSpecFromWire(lease: pb.TaskLease, field = 'TaskLease'): TaskSpec {
  const { task } = lease;
  if (task.case === 'map') {
    const f = `${field}.map`;
    const m = task.value;
    const common = headerFromWire(m.header, `${f}.header`, 'm');
    const split = splitFromWire(m.split, `${f}.split`);
    if (common.taskId !== `m-${String(split.index).padStart(5, '0')}`) {
      throw badMessage(`${f}.split.index`, `is ${split.index}, not the index of ${common.taskId}`);
    }
    return {
      kind: 'map',
      ...common,
      split,
      inputFormat: inputFormatFromWire(m.inputFormat, `${f}.input_format`),
      sortBufferBytes: num64(m.sortBufferBytes, `${f}.sort_buffer_bytes`, 1024),
      mergeFanIn: int(m.mergeFanIn, `${f}.merge_fan_in`, 2, 1_000_000),
    };
  }
  if (task.case === 'reduce') {
    const f = `${field}.reduce`;
    const r = task.value;
    const common = headerFromWire(r.header, `${f}.header`, 'r');
    const partition = int(r.partition, `${f}.partition`, 0, common.numReducers - 1);
    if (common.taskId !== `r-${String(partition).padStart(5, '0')}`) {
      throw badMessage(`${f}.partition`, `is ${partition}, not the partition of ${common.taskId}`);
    }
    return {
      kind: 'reduce',
      ...common,
      partition,
      sources: list(r.sources, `${f}.sources`, wireLimits.sources).map((s, i) =>
        sourceFromWire(s, `${f}.sources[${i}]`),
      ),
      mergeFanIn: int(r.mergeFanIn, `${f}.merge_fan_in`, 2, 1_000_000),
      output: outputTargetFromWire(required(r.output, `${f}.output`), `${f}.output`),
    };
  }
  throw noCase(field);
}

function headerFromWire(h: pb.TaskHeader | undefined, field: string, letter: 'm' | 'r'): TaskSpecCommon {
  const m = required(h, field);
  const taskId = str(m.taskId, `${field}.task_id`, { max: 16, pattern: TASK_ID });
  if (taskId[0] !== letter)
    throw badMessage(
      `${field}.task_id`,
      `must be a ${letter === 'm' ? 'map' : 'reduce'} task id, got ${taskId}`,
    );
  const attempt = int(m.attempt, `${field}.attempt`, 0, 999_999_999);
  const attemptId = str(m.attemptId, `${field}.attempt_id`, { max: 32, pattern: ATTEMPT_ID });
  if (attemptId !== `${taskId}_${attempt}`) {
    throw badMessage(`${field}.attempt_id`, `must be ${taskId}_${attempt}, got ${attemptId}`);
  }
  const common: TaskSpecCommon = {
    jobId: nameFromWire(m.jobId, `${field}.job_id`),
    taskId,
    attempt,
    attemptId,
    job: jobRefFromWire(m.job, `${field}.job`),
    params: paramsFromWire(m.params, `${field}.params`),
    numReducers: int(m.numReducers, `${field}.num_reducers`, 1, wireLimits.reducers),
  };
  if (m.crashAt !== undefined) common.crashAt = real(m.crashAt, `${field}.crash_at`, 0, 1);
  return common;
}

function sourceFromWire(s: pb.MapOutputSource, field: string): MapOutputSource {
  const mapTaskId = str(s.mapTaskId, `${field}.map_task_id`, { max: 16, pattern: TASK_ID });
  const mapAttemptId = str(s.mapAttemptId, `${field}.map_attempt_id`, { max: 32, pattern: ATTEMPT_ID });
  if (mapTaskId[0] !== 'm' || !mapAttemptId.startsWith(`${mapTaskId}_`)) {
    throw badMessage(
      `${field}.map_attempt_id`,
      `must be an attempt of map task ${mapTaskId}, got ${mapAttemptId}`,
    );
  }
  return {
    mapTaskId,
    mapAttemptId,
    workerId: nameFromWire(s.workerId, `${field}.worker_id`),
    shuffleUrl: httpUrl(s.shuffleUrl, `${field}.shuffle_url`),
    length: num64(s.length, `${field}.length`),
    records: num64(s.records, `${field}.records`),
    crc32: int(s.crc32, `${field}.crc32`, 0, 0xffffffff),
  };
}

function outputTargetFromWire(o: pb.ReduceOutput, field: string): ReduceOutputTarget {
  const { kind } = o;
  if (kind.case === 'file') {
    const f = `${field}.file`;
    return {
      kind: 'file',
      outputDir: absPath(kind.value.outputDir, `${f}.output_dir`),
      fileName: str(kind.value.fileName, `${f}.file_name`, { max: 255, pattern: FILE_NAME }),
      format: outputFormatFromWire(kind.value.format, `${f}.format`),
    };
  }
  if (kind.case === 'records') {
    const f = `${field}.records`;
    return {
      kind: 'records',
      outputDir: absPath(kind.value.outputDir, `${f}.output_dir`),
      fileName: str(kind.value.fileName, `${f}.file_name`, { max: 255, pattern: FILE_NAME }),
    };
  }
  throw noCase(field);
}
