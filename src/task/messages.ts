/**
 * Messages between the runtime and the task runner. They are structured-clone
 * safe: the same objects go to a worker thread (`postMessage`) or, in cluster
 * mode, over RPC as JSON.
 */
import type { NormalizedInputFormat } from '../io/record-reader.ts';
import type { NormalizedOutputFormat } from '../io/output-writer.ts';
import type { Split } from '../io/splits.ts';
import type { SegmentRef } from '../shuffle/segment-reader.ts';
import type { MapOutput } from '../shuffle/map-output-collector.ts';
import type { SegmentInfo } from '../shuffle/run-writer.ts';

/** How a task finds the job's code. */
export type JobRef =
  /** A module job: `import(moduleUrl)[exportName]`. */
  | { kind: 'module'; moduleUrl: string; exportName: string }
  /**
   * A job found by where `defineJob` was called: the `index`-th job that
   * `import(moduleUrl)` defines, whose functions' source hashes to
   * `fingerprint` (so that a module defining other jobs on import cannot hand
   * over the wrong one). Needs no export.
   */
  | { kind: 'defined'; moduleUrl: string; index: number; fingerprint: string }
  /** A streaming job (Hadoop Streaming): commands run by a shell. */
  | { kind: 'streaming'; mapper: string; combiner?: string; reducer?: string };

interface TaskCommon {
  jobId: string;
  taskId: string;
  attempt: number;
  job: JobRef;
  params: Record<string, string | number | boolean | null>;
  numReducers: number;
  /**
   * Failure injection (`--simulate-failures`): crash the attempt once this
   * fraction (0–1) of its input has been processed.
   */
  crashAt?: number;
}

export interface MapTaskMessage extends TaskCommon {
  kind: 'map';
  split: Split;
  inputFormat: NormalizedInputFormat;
  sortBufferBytes: number;
  mergeFanIn: number;
  /** Directory for this attempt's spills and map output file. */
  dir: string;
}

/** Where a reduce attempt writes. */
export type ReduceOutputSpec =
  /** Text/JSONL part file `<dir>/<fileName>`. */
  | { kind: 'file'; dir: string; fileName: string; format: NormalizedOutputFormat }
  /** Framed records keyed by the reduce key, for `runJob` without `output`. */
  | { kind: 'records'; dir: string; fileName: string };

export interface ReduceTaskMessage extends TaskCommon {
  kind: 'reduce';
  partition: number;
  /** Segment `partition` of every map output, in map task order. */
  segments: SegmentRef[];
  mergeFanIn: number;
  /** Directory for intermediate merge runs. */
  tmpDir: string;
  output: ReduceOutputSpec;
}

export type TaskMessage = MapTaskMessage | ReduceTaskMessage;

/** Live progress of an attempt. */
export interface TaskProgress {
  /** Input bytes processed (map: split bytes; reduce: segment bytes). */
  bytes: number;
  records: number;
}

export interface TaskResult {
  counters: Record<string, number>;
  /** Map tasks: the map output file and its index. */
  mapOutput?: MapOutput;
  /** Reduce tasks: output files written, records and bytes. */
  output?: { files: string[]; records: number; bytes: number; segment?: SegmentInfo };
  /** Reduce tasks: segments whose checksum was verified. */
  checksumsVerified?: number;
  /** Last status set with `ctx.setStatus`. */
  status?: string;
}
