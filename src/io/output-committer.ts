/**
 * Where reduce attempts write (and map attempts the records they skipped),
 * and how their outputs become the job's: the `OutputCommitter` of Hadoop
 * (`setupJob`, `commitTask`, `abortTask`, `commitJob`, `abortJob`). The job driver and `runJob` see only this
 * interface; nothing outside this file and `committer.ts` knows `_temporary`,
 * attempt directories or part-file names.
 *
 * What every implementation must guarantee (DESIGN.md §2.4):
 * - `commitTask` makes at most one attempt per task the committed one, even
 *   when two attempts of a task race; it answers `false` to the loser and
 *   deletes the loser's output.
 * - Until `commitJob`, nothing a reader could take for a result is visible;
 *   after `abortJob`, nothing of the job's attempts is left.
 * - Calls for one task come one at a time (the scheduler has at most one
 *   commit per task in flight), but calls for different tasks may overlap.
 *
 * Deliberately left out: setting up the output (that is `prepareOutput`,
 * before the job's tasks are planned), and deleting an attempt's scratch
 * files (that is the executor's `discard`).
 */
import { readdir } from 'node:fs/promises';
import { attemptIdOf } from '../engine/scheduler-types.ts';
import type { SegmentRef } from '../shuffle/segment-reader.ts';
import { dirname, join } from 'node:path';
import type { ReduceOutputSpec, SkippedRecordsOutput, TaskResult } from '../task/messages.ts';
import type { NormalizedOutputFormat } from './output-writer.ts';
import {
  abortJob,
  attemptDir,
  commitJob,
  commitTask,
  committedTaskDir,
  discardAttempt,
  type PreparedOutput,
} from './committer.ts';

/** What `commitJob` produced. */
export interface CommittedOutput {
  /** Absolute paths of the output files, in task order (an output directory). */
  files: string[];
  /** The committed records outputs, in task order (a job run without an output directory). */
  segments: SegmentRef[];
}

export interface OutputCommitter {
  /**
   * Where attempt `attempt` of reduce task `taskId` (partition `partition`)
   * writes; in a map-only job, of map task `taskId` (split `partition`).
   */
  taskOutput(taskId: string, attempt: number, partition: number): ReduceOutputSpec;
  /**
   * Where attempt `attempt` of map task `taskId` writes the records it skipped
   * (skip mode), or undefined when the output has no place for them. Such an
   * attempt is committed and aborted like a reduce attempt; its file becomes
   * `<out>/_skipped/<taskId>.jsonl` at job commit, and never appears for a
   * job that failed.
   */
  skippedRecordsOutput(taskId: string, attempt: number): SkippedRecordsOutput | undefined;
  /**
   * Makes a succeeded attempt's output its task's output.
   * @returns false when another attempt of the task committed first.
   * @throws TsmrError `TSMR_IO` when the file system fails.
   */
  commitTask(taskId: string, attempt: number, result: TaskResult): Promise<boolean>;
  /** Deletes the output of an attempt that will not be committed (missing is fine). */
  abortTask(taskId: string, attempt: number): Promise<void>;
  /**
   * Publishes the committed task outputs as the job's output.
   * @param report the job report to write beside them, built from the output files
   *   (the part files; not the skipped-records files).
   */
  commitJob(report: (files: string[]) => object | Promise<object>): Promise<CommittedOutput>;
  /** Discards every task output; `report` says why, where the output can hold it. */
  abortJob(report: object): Promise<void>;
  /**
   * Committed part files before `commitJob`, by file name (for `--verify`),
   * or undefined for an output without files.
   */
  stagedParts(): Promise<Map<string, string> | undefined>;
}

/**
 * `committer`, with `jobFile(report)` written as the job's report file instead
 * of the report itself (at commit and at abort); `committer` itself without it.
 */
export function withJobFile<R extends object>(
  committer: OutputCommitter,
  jobFile: ((report: R) => object) | undefined,
): OutputCommitter {
  if (jobFile === undefined) return committer;
  return {
    ...committer,
    commitJob: (report) => committer.commitJob(async (files) => jobFile((await report(files)) as R)),
    abortJob: (report) => committer.abortJob(jobFile(report as R)),
  };
}

/** Directory of `<out>` (and of an attempt's output) that holds skipped records. */
const SKIPPED_DIR = '_skipped';

/**
 * `part-r-00003`: the output file of reduce partition 3; `part-m-00003`: of
 * map task 3 in a map-only job (Hadoop's names).
 */
function partFileName(taskId: string, partition: number): string {
  return `part-${taskId.startsWith('m-') ? 'm' : 'r'}-${String(partition).padStart(5, '0')}`;
}

/** Text/JSONL part files under an output directory, committed as Hadoop's FileOutputCommitter v1 (`committer.ts`). */
export function fileOutputCommitter(
  prepared: PreparedOutput,
  format: NormalizedOutputFormat,
): OutputCommitter {
  return {
    taskOutput: (taskId, attempt, partition) => ({
      kind: 'file',
      dir: attemptDir(prepared.dir, taskId, attempt),
      fileName: partFileName(taskId, partition),
      format,
    }),
    skippedRecordsOutput: (taskId, attempt) => ({
      dir: join(attemptDir(prepared.dir, taskId, attempt), SKIPPED_DIR),
      fileName: `${taskId}.jsonl`,
    }),
    commitTask: (taskId, attempt) => commitTask(prepared.dir, taskId, attempt),
    abortTask: (taskId, attempt) => discardAttempt(prepared.dir, taskId, attempt),
    async commitJob(report) {
      const isPart = (file: string): boolean => dirname(file) === prepared.dir;
      const files = await commitJob(prepared, (moved) => report(moved.filter(isPart)));
      return { files: files.filter(isPart), segments: [] };
    },
    abortJob: (report) => abortJob(prepared, report),
    stagedParts: () => stagedPartsOf(prepared.dir),
  };
}

async function stagedPartsOf(outDir: string): Promise<Map<string, string>> {
  const root = committedTaskDir(outDir);
  const parts = new Map<string, string>();
  for (const task of (await readdir(root)).sort()) {
    for (const file of await readdir(join(root, task))) {
      if (file.startsWith('part-')) parts.set(file, join(root, task, file));
    }
  }
  return parts;
}

/**
 * Framed records kept in the attempts' scratch files, for `runJob` without an
 * output directory: a task commit keeps its attempt's records segment, job
 * commit hands them over in task order to be merged back in key order
 * (`results.ts`); each segment's `source` is its attempt's id. The files live in the executor's scratch space, which the
 * caller keeps until the results are read.
 */
export function recordsCommitter(): OutputCommitter {
  const committed = new Map<string, SegmentRef>();
  const tasks = new Set<string>();
  return {
    taskOutput: (taskId, _attempt, partition) => ({
      kind: 'records',
      fileName: partFileName(taskId, partition),
    }),
    skippedRecordsOutput: () => undefined,
    async commitTask(taskId, attempt, result) {
      if (tasks.has(taskId)) return false;
      tasks.add(taskId);
      const segment = result.output?.segment;
      const path = result.output?.files[0];
      if (segment !== undefined && path !== undefined && segment.records > 0) {
        committed.set(taskId, { path, ...segment, source: attemptIdOf(taskId, attempt) });
      }
      return true;
    },
    abortTask: async () => {},
    async commitJob() {
      const segments = [...committed.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, s]) => s);
      return { files: segments.map((s) => s.path), segments };
    },
    abortJob: async () => {
      committed.clear();
      tasks.clear();
    },
    stagedParts: async () => undefined,
  };
}
