/**
 * Job settings with defaults filled in and checked (DESIGN.md §4, §5).
 */
import { availableParallelism, totalmem } from 'node:os';
import { usageError } from '../errors.ts';
import type { RunOptions } from './run-options.ts';

export const MiB = 1024 * 1024;

export interface JobSettings {
  workers: number;
  reducers: number;
  splitSize: number;
  sortBufferBytes: number;
  mergeFanIn: number;
  maxAttempts: number;
  simulateFailures: number;
  seed: number;
  verify: boolean;
  overwrite: boolean;
  params: Record<string, string | number | boolean | null>;
  /** An attempt with no progress for this long is killed and retried; `Infinity`: never. */
  taskTimeoutMs: number;
  /** Skip mode: bad input records the job may leave out (`--skip-bad-records`); 0: off. */
  skipBadRecords: number;
}

/**
 * Bytes of input per map task by default: 128 MiB, HDFS's block size since
 * Hadoop 2 and Spark's `spark.sql.files.maxPartitionBytes`. Fewer, larger
 * tasks than with 64 MiB: each map task's fixed costs (its output written
 * and committed, one more segment for every reduce task to merge) are paid
 * half as often, and small inputs still get two splits per worker
 * (`effectiveSplitSize` in `run-job.ts`). On word count over 1 GiB this was
 * 10–15% faster (bench corpus) and 3–7% (cmudict); on TeraSort, whose maps
 * then spill, 5–15% faster at the same peak RSS (docs/architecture.md).
 */
export const DEFAULT_SPLIT_SIZE = 128 * MiB;

/** Default task timeout: 600 s (Hadoop's `mapreduce.task.timeout`). */
export const DEFAULT_TASK_TIMEOUT_MS = 600_000;

/** Heap and buffers of one worker thread besides its sort buffer, for the worker-count bound. */
const THREAD_OVERHEAD_BYTES = 64 * MiB;

/**
 * The most worker threads a job may use on this machine, and why: four per
 * core (at least 16; more threads than that only add memory and contention),
 * and no more than this machine's memory holds when each thread has one sort
 * buffer and 64 MiB of its own.
 */
export function workerLimit(sortBufferBytes: number): { limit: number; why: string } {
  const cores = availableParallelism();
  const byCores = Math.max(16, 4 * cores);
  const byMemory = Math.max(1, Math.floor(totalmem() / (sortBufferBytes + THREAD_OVERHEAD_BYTES)));
  if (byMemory < byCores) {
    return {
      limit: byMemory,
      why: `each worker thread needs its sort buffer (${Math.round(sortBufferBytes / MiB)} MiB) and about 64 MiB of heap, and this machine has ${Math.round(totalmem() / MiB)} MiB`,
    };
  }
  return {
    limit: byCores,
    why: `4 per core on this ${cores}-core machine, at least 16: more threads than that only add memory and contention`,
  };
}

/**
 * Fills in defaults: workers = available parallelism, R = the job's `reducers`
 * or the number of workers (0: a map-only job), split size 128 MiB, sort buffer 64 MiB, merge fan-in 64,
 * 4 attempts, task timeout 600 s (0 = none), no simulated failures, skip mode off.
 * With `clusterSlots` (a cluster job: the task slots of its workers), those
 * are the workers, and this machine's thread limit does not apply.
 *
 * `simulateFailures` is a rate from 0 to 1, both included: the fraction of
 * attempts crashed on purpose. 1 is allowed because a task's last allowed
 * attempt is never crashed (`failure-injection.ts`): it crashes every other
 * attempt, the most failures a job survives, and still succeeds.
 * @throws TsmrError `TSMR_USAGE` for an out-of-range option, including more
 *   workers than {@link workerLimit} allows.
 */
export function resolveSettings(
  options: RunOptions,
  jobReducers: number | undefined,
  clusterSlots?: number,
): JobSettings {
  const workers = clusterSlots ?? integer('workers', options.workers ?? availableParallelism(), 0);
  const sortBufferBytes = integer('sortBuffer', options.sortBuffer ?? 64 * MiB, 1024);
  const { limit, why } = workerLimit(sortBufferBytes);
  if (clusterSlots === undefined && workers > limit) {
    throw usageError(`workers must be at most ${limit} on this machine (${why}); got ${workers}`);
  }
  const taskTimeout = options.taskTimeout ?? DEFAULT_TASK_TIMEOUT_MS;
  if (!(typeof taskTimeout === 'number' && taskTimeout >= 0)) {
    throw usageError(`taskTimeout must be a number of milliseconds >= 0 (0: no timeout), got ${taskTimeout}`);
  }
  const settings: JobSettings = {
    workers,
    reducers: integer('reducers', options.reducers ?? jobReducers ?? Math.max(1, workers), 0),
    splitSize: integer('splitSize', options.splitSize ?? DEFAULT_SPLIT_SIZE, 1),
    sortBufferBytes,
    mergeFanIn: integer('mergeFanIn', options.mergeFanIn ?? 64, 2),
    maxAttempts: integer('maxAttempts', options.maxAttempts ?? 4, 1),
    simulateFailures: options.simulateFailures ?? 0,
    seed: integer('seed', options.seed ?? 1, 0),
    verify: options.verify ?? false,
    overwrite: options.overwrite ?? false,
    params: { ...options.params },
    taskTimeoutMs: taskTimeout === 0 ? Number.POSITIVE_INFINITY : taskTimeout,
    skipBadRecords: integer('skipBadRecords', options.skipBadRecords ?? 0, 0),
  };
  if (!(settings.simulateFailures >= 0 && settings.simulateFailures <= 1)) {
    throw usageError(
      `simulateFailures must be a rate from 0 to 1, both included (1 crashes every attempt but each task's last), got ${options.simulateFailures}`,
    );
  }
  return settings;
}

/** `Infinity` (no limit) as 0, for JSON and display. */
export function finiteOrZero(ms: number): number {
  return Number.isFinite(ms) ? ms : 0;
}

function integer(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw usageError(`${name} must be an integer >= ${min}, got ${value}`);
  }
  return value;
}
