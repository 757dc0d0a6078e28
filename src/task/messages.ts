/**
 * Messages between the runtime and the task runner. They are structured-clone
 * safe: the same objects go to a worker thread (`postMessage`) or, in cluster
 * mode, over RPC. They carry ids and shared paths (inputs, the output
 * directory) only: where an attempt keeps its own files is the business of
 * the worker that runs it, which passes the attempt a scratch directory of
 * its own (see `runTask`) and deletes it.
 */
import type { SerializedError } from '../errors.ts';
import type { NormalizedInputFormat } from '../io/record-reader.ts';
import type { NormalizedOutputFormat } from '../io/output-writer.ts';
import type { Split } from '../io/splits.ts';
import type { MapOutput } from '../shuffle/map-output-collector.ts';
import type { SegmentInfo } from '../shuffle/run-writer.ts';

/**
 * A side file shipped to every task (Hadoop's distributed cache), found by
 * `ctx.file(name)`. The runtime reads `path` where the task runs: local mode
 * gives the file's own path; a cluster executor ships the content once per
 * worker, addressed and checked by `sha256` (as job bundles are), and gives
 * the task its cached copy's path instead.
 */
export interface SideFile {
  /** Name in `ctx.file(name)`: the base name of the path, or the `#name` given after it. */
  name: string;
  /** Absolute path of the file (of its copy, where the task runs). */
  path: string;
  /** Bytes. */
  size: number;
  /** SHA-256 of the content, hex, taken when the job started. */
  sha256: string;
}

/** How a task finds the job's code. */
export type JobRef =
  /**
   * A module job: `import(moduleUrl)[exportName]`; with `step`, that export
   * is a pipeline (`definePipeline`) and the job is its step `step` (from 0).
   */
  | { kind: 'module'; moduleUrl: string; exportName: string; step?: number }
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
  /** Side files of the job (`ctx.file(name)`); absent when it has none. */
  files?: SideFile[];
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
  /**
   * Total-order partitioning (`totalOrder()`, `--total-order`): the split
   * points, encoded keys in base64, ascending. When present it is the
   * partitioner, whatever the job's own `partition`.
   */
  totalOrder?: TotalOrderSpec;
  /**
   * Skip mode (`--skip-bad-records`; Google MapReduce §3.7, Hadoop's
   * `SkipBadRecords`); absent when it is off. `records`: the records earlier
   * attempts of this task failed on, which this attempt leaves out; `output`:
   * where it writes them with their errors (`<dir>/<fileName>`, JSONL), given
   * when `records` is not empty and the job has an output directory.
   */
  skip?: { records: BadRecord[]; output?: SkippedRecordsOutput };
  /**
   * A map-only job (R = 0): where the attempt writes its records (the job's
   * output, committed like a reduce attempt's) instead of a map output.
   */
  output?: ReduceOutputSpec;
}

/** The split points of a total-order partition, as they travel to map tasks. */
export interface TotalOrderSpec {
  /** Base64 of encoded keys, strictly ascending; at most R − 1 of them. */
  splitPoints: string[];
}

/** A record a map attempt failed on (`details.failedOnRecord`), which later attempts of its task skip. */
export interface BadRecord {
  /** Its input file (in-memory input: the spool file), as in the failure's `details.file`. */
  file: string;
  /** Its byte offset in `file`, as in the failure's `details.offset`. */
  offset: number;
  /** In-memory input: the item's index. */
  index?: number;
  /** The failure's code and message. */
  error: { code: string; message: string };
}

/** Where a map attempt writes the records it skipped: `<dir>/<fileName>`, on the output's file system. */
export interface SkippedRecordsOutput {
  dir: string;
  fileName: string;
}

/** Where a reduce attempt (or a map attempt of a map-only job) writes, as the job's `OutputCommitter` decides. */
export type ReduceOutputSpec =
  /** Text/JSONL part file `<dir>/<fileName>`, `dir` on the shared output file system. */
  | { kind: 'file'; dir: string; fileName: string; format: NormalizedOutputFormat }
  /** Framed records keyed by the reduce key, for `runJob` without `output`: `<scratch>/<fileName>`. */
  | { kind: 'records'; fileName: string };

/**
 * Where the output of a committed map attempt is: a file this process can
 * read (local mode), or the worker that holds it and serves it over its
 * shuffle server (cluster mode, Google MR §3.1: "the master forwards these
 * locations to the reduce workers").
 */
export type MapOutputLocation =
  { kind: 'local'; path: string } | { kind: 'worker'; workerId: string; shuffleUrl: string };

/** One segment a reduce attempt must read: partition `p` of one committed map attempt's output. */
export interface MapOutputSource {
  mapTaskId: string;
  mapAttemptId: string;
  /** Offset, length, records and CRC-32 of the segment in that map output. */
  segment: SegmentInfo;
  location: MapOutputLocation;
}

export interface ReduceTaskMessage extends TaskCommon {
  kind: 'reduce';
  partition: number;
  /** The non-empty segments `partition` of the committed map outputs, in map task order. */
  sources: MapOutputSource[];
  mergeFanIn: number;
  output: ReduceOutputSpec;
}

export type TaskMessage = MapTaskMessage | ReduceTaskMessage;

/** Live progress of an attempt. */
export interface TaskProgress {
  /** Input bytes processed (map: split bytes; reduce: segment bytes). */
  bytes: number;
  records: number;
}

/**
 * What the driver's side of an attempt's port sends to its thread: `kill`
 * (the reason) stops the attempt at its next record, group or close
 * ({@link abortableBody}), beside the thread's termination.
 */
export interface AttemptControl {
  kill: string;
}

/** The index of a map output, without where it is: one segment per partition. */
export type MapOutputIndex = Pick<MapOutput, 'partitions' | 'records' | 'bytes'>;

export interface TaskResult {
  counters: Record<string, number>;
  /**
   * The input read in all: the attempt's last progress report, which may
   * reach the driver after the result (progress and results travel on
   * different ports).
   */
  input: TaskProgress;
  /** Map tasks: the index of the map output, `<scratch>/<attemptId>.data` (see `mapOutputPath`). */
  mapOutput?: MapOutputIndex;
  /** Reduce tasks and map-only map tasks: output files written (absolute), records and bytes; records output: its one segment. */
  output?: { files: string[]; records: number; bytes: number; segment?: SegmentInfo };
  /** Reduce tasks: segments whose checksum was verified. */
  checksumsVerified?: number;
  /** Last status set with `ctx.setStatus`. */
  status?: string;
}

/**
 * The outcome of an attempt, as an executor reports it: never a rejection.
 * `retriable: false` marks an error no retry can fix (see `isRetriable`).
 */
export type AttemptOutcome =
  | { ok: true; result: TaskResult; mapOutput?: MapOutputLocation }
  | { ok: false; error: SerializedError; retriable: boolean };
