/**
 * Shapes of job progress and of the job report (`_job.json`, `--json`).
 * Times are milliseconds, sizes bytes, rates per second.
 */
import type { SerializedError } from '../errors.ts';
import type { SkippedInput } from '../io/input-paths.ts';
import type { WorkerReport } from './worker-report.ts';

/** Phases of a job; `sample` only with a total-order partition (`totalOrder()`). */
export type PhaseName = 'sample' | 'map' | 'reduce';

/** Live progress of one phase. */
export interface PhaseProgress {
  phase: PhaseName;
  tasksTotal: number;
  tasksDone: number;
  tasksRunning: number;
  /** Input bytes of the phase (map: split bytes; reduce: segment bytes to merge; sample: 0, unknown ahead). */
  bytesTotal: number;
  /** Bytes processed so far by committed and running attempts. */
  bytesDone: number;
  /** Records processed so far (map input records / reduce input records). */
  records: number;
  /** Epoch ms when the first task of the phase started, or undefined. */
  startedAt?: number;
  /** Epoch ms when the last task of the phase finished, or undefined. */
  finishedAt?: number;
}

/** A progress snapshot, emitted about every 200 ms while a job runs. */
export interface ProgressSnapshot {
  jobId: string;
  /** Epoch ms of this snapshot. */
  now: number;
  /** Epoch ms when the job started. */
  startedAt: number;
  /** `sample` (its tasks are windows of input read) only for a total-order partition. */
  phases: { sample?: PhaseProgress; map: PhaseProgress; reduce: PhaseProgress };
  /**
   * Attempts that failed so far and count against `maxAttempts` (they are
   * retried, or end the job at once when no retry can fix their error): an
   * error, a timeout, a refused commit, a committed map output that could not
   * be read. Killed attempts are not counted: those stopped by a cancel
   * or the end of the job, on a lost worker, or a reduce attempt that failed
   * because a map output was unreadable (the map's fault).
   */
  failedAttempts: number;
  /**
   * Running attempts that made no progress for a while (at least 10 s, or half
   * the task timeout if that is shorter), longest idle first: likely hung.
   */
  stalled: StalledAttempt[];
  /** The task timeout (ms; `0`: none): a stalled attempt is killed and retried when it reaches it. */
  taskTimeoutMs: number;
  /** Set when the job is a step of a pipeline: its position (from 1), the number of steps, its name. */
  step?: PipelineStepPosition;
}

/** Where a job stands in its pipeline. */
export interface PipelineStepPosition {
  /** From 1. */
  index: number;
  count: number;
  name: string;
}

/** A running attempt without progress, for the progress display. */
export interface StalledAttempt {
  attemptId: string;
  worker: string;
  /** Ms since its last progress (or its start). */
  idleMs: number;
}

/** What an attempt read and wrote, as far as it is known (absent: never reported). */
export interface AttemptIo {
  /** Input bytes read (map: of its split; reduce: of its segments), as last reported. */
  inputBytes?: number;
  /** Input records read (map: records; reduce: values of its keys), as last reported. */
  inputRecords?: number;
  /** A succeeded attempt: bytes written (map: its map output, after combining; reduce: its part file). */
  outputBytes?: number;
  /** A succeeded attempt: records written. */
  outputRecords?: number;
}

/** One attempt of a task, as recorded in the report (times: epoch ms). */
export interface AttemptRecord extends AttemptIo {
  taskId: string;
  attempt: number;
  worker: string;
  startedAt: number;
  finishedAt?: number;
  status: 'running' | 'succeeded' | 'failed' | 'killed' | 'committed' | 'duplicate';
  error?: SerializedError;
}

/** Timing of a phase. */
export interface PhaseReport {
  tasks: number;
  startedAt: number;
  finishedAt: number;
  durationMs: number;
  inputBytes: number;
  inputRecords: number;
  outputRecords: number;
  /** MB/s (1 MB = 10^6 bytes) over the phase's input bytes. */
  throughputMBps: number;
}

/** What the sampler of a total-order partition did (`totalOrder()`). */
export interface TotalOrderReport {
  sampler: 'random' | 'split';
  /** Keys asked for (`samples`) and kept. */
  samples: number;
  sampledKeys: number;
  /** Splits read for samples, of the job's splits. */
  splitsSampled: number;
  /** Split points chosen: R − 1, fewer when the sample had fewer than R distinct keys. */
  splitPoints: number;
}

/** Result of the built-in validations. */
export interface ValidationReport {
  /**
   * The input bytes read by the committed map attempts (`tsmr/MAP_INPUT_BYTES`)
   * equal the bytes the splits planned (`phases.map.inputBytes`); false fails
   * the job with `TSMR_INPUT_CHANGED`. Behind the record reader's own checks.
   */
  inputBytesMatch: boolean;
  /** Map output records (after combining) equal reduce input records, summed over partitions. */
  shuffleRecordsMatch: boolean;
  /** Every segment read had a valid CRC-32. */
  checksumsVerified: number;
  /** `--verify`: the sequential in-process run produced byte-identical output. */
  verifiedAgainstSequential?: boolean;
}

/** At most this many skipped input entries are listed in a report; `count` has them all. */
export const MAX_LISTED_SKIPPED_INPUTS = 100;

/**
 * Entries of the input directories that were skipped because they hold
 * nothing to read (FIFOs, sockets, devices, dangling symbolic links…; see
 * `resolveInputs`). Hidden names (`.*`, `_*`) are skipped silently, not here.
 */
export interface SkippedInputsReport {
  /** How many were skipped. */
  count: number;
  /** The first {@link MAX_LISTED_SKIPPED_INPUTS} of them, by path. */
  listed: SkippedInput[];
}

/** The report of `skipped` (bounded), or `undefined` when nothing was skipped. */
export function skippedInputsReport(skipped: readonly SkippedInput[]): SkippedInputsReport | undefined {
  if (skipped.length === 0) return undefined;
  return { count: skipped.length, listed: skipped.slice(0, MAX_LISTED_SKIPPED_INPUTS) };
}

/** At most this many skipped records are listed in a report; `count` has them all. */
export const MAX_LISTED_SKIPPED_RECORDS = 100;

/** A record that skip mode (`--skip-bad-records`) left out, and why. */
export interface SkippedRecord {
  /** The map task whose attempt failed on it. */
  taskId: string;
  /** Its input file (in-memory input: the spool file) and byte offset there. */
  file: string;
  offset: number;
  /** In-memory input: the item's index. */
  index?: number;
  /** The failure it caused. */
  error: { code: string; message: string };
}

/** The records skip mode decided to leave out. */
export interface SkippedRecordsReport {
  /** How many, in all map tasks. */
  count: number;
  /** The limit (`--skip-bad-records`). */
  max: number;
  /** The first {@link MAX_LISTED_SKIPPED_RECORDS}, by task, each task's in the order they failed. */
  listed: SkippedRecord[];
}

/** Settings a job actually used (defaults filled in), as its report and its start announce them. */
export interface JobSettingsReport {
  inputs: string[];
  output?: string;
  workers: number;
  reducers: number;
  splitSize: number;
  sortBufferBytes: number;
  mergeFanIn: number;
  maxAttempts: number;
  /** Ms without progress before an attempt is killed; 0: no timeout. */
  taskTimeoutMs: number;
  simulateFailures?: number;
  /** Seed of `simulateFailures` and of the total-order sampler, when either ran. */
  seed?: number;
  /** Skip mode's limit of bad records (`--skip-bad-records`); absent when off. */
  skipBadRecords?: number;
  params: Record<string, string | number | boolean | null>;
}

/** What is known of a job when its first task is about to start (the `started` event of a job handle). */
export interface JobStart {
  jobId: string;
  name: string;
  /** Epoch ms. */
  startedAt: number;
  settings: JobSettingsReport;
  /** Map tasks M and reduce tasks R. */
  tasks: { map: number; reduce: number };
  /** The workers attempts run on and their slots (local mode: `local`, one slot per thread). */
  workers: Array<{ id: string; slots: number }>;
}

/** The job report: printed at the end, written to `<out>/_job.json`, returned by `runJob`. */
export interface JobReport {
  jobId: string;
  name: string;
  status: 'succeeded' | 'failed' | 'cancelled';
  startedAt: number;
  finishedAt: number;
  durationMs: number;
  /** Settings actually used (defaults filled in). */
  settings: JobSettingsReport;
  /** Input entries skipped with a warning; absent when none was. */
  inputsSkipped?: SkippedInputsReport;
  /**
   * Input records left out by skip mode; absent when none was. With an output
   * directory they are in `<out>/_skipped/<map task>.jsonl`, with their errors.
   */
  skippedRecords?: SkippedRecordsReport;
  /**
   * Timings per phase. `sample` (total order only): tasks are windows of
   * input read, input bytes and records what they read, output records the
   * map output keys kept as samples.
   */
  phases: { sample?: PhaseReport; map?: PhaseReport; reduce?: PhaseReport };
  /** Total-order partitioning, when the job used it. */
  totalOrder?: TotalOrderReport;
  /** `group/name` → value, summed over committed attempts only. */
  counters: Record<string, number>;
  attempts: AttemptRecord[];
  /** Per worker: tasks, attempts, failures, busy time, input read (see {@link WorkerReport}). */
  workers: WorkerReport[];
  /** Attempt outcomes that were ignored because the task was already committed. */
  duplicateCompletions: number;
  outputFiles: string[];
  outputBytes: number;
  outputRecords: number;
  /** Peak resident set size of the process (all threads), bytes. */
  peakRssBytes: number;
  validation: ValidationReport;
  error?: SerializedError;
}

/** A step of a pipeline in its report: where it stands, and its job report. */
export interface PipelineStepReport {
  /** Position in the pipeline, from 1. */
  step: number;
  name: string;
  /** With `--keep-intermediate`: where the step's output was kept (`<out>/_steps/<step>-<name>`). */
  keptOutput?: string;
  /** The step's own job report (its output is the next step's input, but for the last step). */
  report: JobReport;
}

/**
 * The report of a pipeline (`runPipeline`, `tsmr run pipeline.ts`): printed
 * at the end, written to `<out>/_job.json`, with one section per step that
 * ran. Output files, bytes and records are the last step's.
 */
export interface PipelineReport {
  kind: 'pipeline';
  pipelineId: string;
  name: string;
  /** `failed` or `cancelled` as the step that ended it. */
  status: 'succeeded' | 'failed' | 'cancelled';
  startedAt: number;
  finishedAt: number;
  durationMs: number;
  /** The names of all steps, in order (also of those that did not run). */
  stepNames: string[];
  /** The steps that ran (or started), in order. */
  steps: PipelineStepReport[];
  output?: string;
  /** Whether the steps' outputs but the last were kept (`--keep-intermediate`). */
  keepIntermediate: boolean;
  outputFiles: string[];
  outputBytes: number;
  outputRecords: number;
  /** Peak resident set size of the process (all threads), bytes. */
  peakRssBytes: number;
  /** Why it failed: the error of the step that failed, with `details.step`. */
  error?: SerializedError;
}
