/**
 * Job settings with defaults filled in and checked (DESIGN.md §4, §5).
 */
import { availableParallelism } from 'node:os';
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
  taskTimeoutMs: number;
}

/**
 * Fills in defaults: workers = available parallelism, R = the job's `reducers`
 * or the number of workers, split size and sort buffer 64 MiB, merge fan-in 64,
 * 4 attempts, task timeout 600 s, no simulated failures.
 *
 * `simulateFailures` is a rate from 0 to 1, both included: the fraction of
 * attempts crashed on purpose. 1 is allowed because a task's last allowed
 * attempt is never crashed (`failure-injection.ts`): it crashes every other
 * attempt, the most failures a job survives, and still succeeds.
 * @throws TsmrError `TSMR_USAGE` for an out-of-range option.
 */
export function resolveSettings(options: RunOptions, jobReducers: number | undefined): JobSettings {
  const workers = integer('workers', options.workers ?? availableParallelism(), 0);
  const settings: JobSettings = {
    workers,
    reducers: integer('reducers', options.reducers ?? jobReducers ?? Math.max(1, workers), 1),
    splitSize: integer('splitSize', options.splitSize ?? 64 * MiB, 1),
    sortBufferBytes: integer('sortBuffer', options.sortBuffer ?? 64 * MiB, 1024),
    mergeFanIn: integer('mergeFanIn', options.mergeFanIn ?? 64, 2),
    maxAttempts: integer('maxAttempts', options.maxAttempts ?? 4, 1),
    simulateFailures: options.simulateFailures ?? 0,
    seed: integer('seed', options.seed ?? 1, 0),
    verify: options.verify ?? false,
    overwrite: options.overwrite ?? false,
    params: { ...options.params },
    taskTimeoutMs: 600_000,
  };
  if (!(settings.simulateFailures >= 0 && settings.simulateFailures <= 1)) {
    throw usageError(
      `simulateFailures must be a rate from 0 to 1, both included (1 crashes every attempt but each task's last), got ${options.simulateFailures}`,
    );
  }
  return settings;
}

function integer(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw usageError(`${name} must be an integer >= ${min}, got ${value}`);
  }
  return value;
}
