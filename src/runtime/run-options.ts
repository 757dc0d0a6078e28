/**
 * Options of `runJob` (and, flag for flag, of `tsmr run`). Sizes are bytes.
 */
import type { TotalOrderOptions } from '../api/total-order.ts';
import type { Key } from '../api/types.ts';
import type { JobReport } from '../engine/job-report.ts';

export interface RunOptions {
  /**
   * Input: paths (a string or an array of strings: files, directories read
   * recursively skipping `.`/`_` names, globs), or in-memory records: any other
   * array or (async) iterable, or `{ records }` (needed for an array of strings).
   * Each in-memory item is one record whose key is its index and whose value is
   * the item; items are spooled to disk, so memory stays bounded. Required,
   * unless the job names its own `inputs` (then it must not be given).
   */
  input?: string | readonly string[] | Iterable<unknown> | AsyncIterable<unknown> | InMemoryInput;
  /**
   * Output directory for `part-r-NNNNN`, `_SUCCESS` and `_job.json`. Without it,
   * results are kept in a temporary directory and read back through
   * `handle.results()`, in key order.
   */
  output?: string;
  /** Replace an existing output directory (default false: an existing one is an error). */
  overwrite?: boolean;
  /**
   * Worker threads (default: available parallelism; at most 4 per core, at
   * least 16, and what memory holds: see `workerLimit`). `0` runs every task in
   * this thread, in sequence: then a killed attempt (task timeout, cancel, a
   * lost race) stops at its next record or key; one waiting on a promise that
   * never settles cannot be stopped in-process (the job goes on without it
   * one second after the kill, and its files are deleted), and a synchronous
   * endless loop blocks the whole process, so no timeout fires. Code that may
   * hang belongs on worker threads, where a killed attempt's thread is terminated.
   */
  workers?: number;
  /**
   * Reduce tasks R (default: the job's `reducers`, else the number of
   * workers, at least 1). 0 runs the job map-only: each map task writes its
   * records to `part-m-NNNNN`, unsorted (a job without `reduce` is map-only).
   */
  reducers?: number;
  /**
   * Partition by ranges of sampled keys so that the part files concatenated
   * are sorted (see `totalOrder()`): `true` for the default sampler, or its
   * options. Replaces the job's own `partition`, as Hadoop's
   * `-D mapreduce.job.partitioner.class` does (default: the job's
   * `partition`). With R = 1 nothing is sampled: one part file is sorted.
   */
  totalOrder?: boolean | TotalOrderOptions;
  /** Split size in bytes (default 128 MiB, `DEFAULT_SPLIT_SIZE`). */
  splitSize?: number;
  /** Map-side sort buffer budget per map task (default 64 MiB). */
  sortBuffer?: number;
  /** Maximum segments or runs merged at once (default 64). */
  mergeFanIn?: number;
  /** Attempts per task before the job fails (default 4). */
  maxAttempts?: number;
  /**
   * Milliseconds an attempt may go without progress (records read, keys
   * reduced) before it is killed and retried (default 600 000, Hadoop's
   * `mapreduce.task.timeout`; 0: no timeout).
   */
  taskTimeout?: number;
  /**
   * Crash this fraction of attempts on purpose, seeded (from 0 to 1, both
   * included; default 0). The last allowed attempt of a task is never crashed,
   * so 1 crashes every attempt but each task's last and the job still succeeds.
   */
  simulateFailures?: number;
  /** Seed of `simulateFailures` and of the total-order sampler (default 1). */
  seed?: number;
  /**
   * Skip mode (Google MapReduce §3.7, Hadoop's `SkipBadRecords`): the most
   * input records the job may leave out because a map attempt failed on them
   * (default 0: off, a record that keeps failing fails the job). A record
   * `map` throws on (or cannot parse, or whose emit is refused) is left out by
   * the task's next attempt, and written with its error to
   * `<out>/_skipped/<map task>.jsonl` when the job commits; such retries do
   * not count against `maxAttempts`. One more bad record than this fails the
   * job with `TSMR_TASK_FAILED`. Counted as `tsmr/MAP_SKIPPED_RECORDS` and
   * listed in `report.skippedRecords`. Reduce failures are retried as usual.
   */
  skipBadRecords?: number;
  /**
   * Side files shipped to every task, read there through `ctx.file(name)`
   * (Hadoop's distributed cache, `-files`): paths, each may end in `#name`
   * (default name: the base name). Added to the job's own `files`.
   */
  files?: readonly string[];
  /** Re-run the job sequentially in-process and compare outputs (default false). */
  verify?: boolean;
  /**
   * Job parameters, visible as `ctx.params` with the JSON types given here
   * (`tsmr run --param name=value` gives strings only).
   */
  params?: Record<string, string | number | boolean | null>;
  /** Directory for spills and map outputs (default: the OS temp dir). */
  tmpDir?: string;
  /** Cancels the job. */
  signal?: AbortSignal;
  /**
   * Run on a cluster: the URL of its coordinator (`http://host:port`). The
   * job's module is bundled and uploaded, and the job's inputs, output and
   * side files must be paths every worker can read (a shared file system);
   * relative paths are made absolute here. Not with `workers`, `verify` or
   * `tmpDir` (a pipeline takes `tmpDir` as the shared directory of its
   * intermediate outputs). Default: run on this machine. See docs/cluster.md.
   */
  coordinator?: string;
  /** The cluster token for `coordinator` (default: `TSMR_TOKEN`, else the local cluster's). */
  token?: string;
  /** Speculative backup attempts for stragglers, cluster only (default on). */
  speculation?: boolean;
  /**
   * What `<out>/_job.json` holds, made from the job's report (default: the
   * report itself). A pipeline puts its own report there from its last step.
   * @internal
   */
  jobFile?: (report: JobReport) => object;
}

/** In-memory records given explicitly. */
export interface InMemoryInput {
  records: Iterable<unknown> | AsyncIterable<unknown>;
}

/** A record of in-memory results: `[key, value]`. */
export type ResultRecord<K = Key, V = unknown> = [K, V];
