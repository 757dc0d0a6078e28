/**
 * `runJob`: the programmatic way to run a job, and what `tsmr run` calls.
 */
import { EventEmitter } from 'node:events';
import { rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { normalizeTotalOrder, type TotalOrderPartitioner } from '../api/total-order.ts';
import type { Job, Key } from '../api/types.ts';
import type { AttemptHistoryEntry } from '../engine/scheduler-types.ts';
import {
  type JobReport,
  type JobSettingsReport,
  type JobStart,
  type PhaseProgress,
  type ProgressSnapshot,
  type SkippedInputsReport,
  skippedInputsReport,
} from '../engine/job-report.ts';
import { deserializeError, ErrorCode, serializeError, TsmrError, usageError } from '../errors.ts';
import { discardOutput, prepareOutput, type PreparedOutput } from '../io/committer.ts';
import {
  fileOutputCommitter,
  type OutputCommitter,
  recordsCommitter,
  withJobFile,
} from '../io/output-committer.ts';
import type { InputFile } from '../io/input-paths.ts';
import type { Split } from '../io/splits.ts';
import { resolveSideFiles } from '../io/side-files.ts';
import { spoolRecords } from '../io/spool.ts';
import type { JobBody } from '../task/job-body.ts';
import type { JobRef } from '../task/messages.ts';
import { refuseJobStartedOnImport, type ResolvedJob, resolveJob } from '../task/load-job.ts';
import { createLogger, type Logger } from '../observe/logger.ts';
import type { AttemptExecutor } from './executor.ts';
import { driveJob } from './job-driver.ts';
import { checkInputOptions, inMemoryRecords, planJobSplits, resolveJobPaths } from './job-inputs.ts';
import { createLocalExecutor } from './local/local-executor.ts';
import { readResults } from './results.ts';
import type { SegmentRef } from '../shuffle/segment-reader.ts';
import type { ResultRecord, RunOptions } from './run-options.ts';
import { finiteOrZero, type JobSettings, MiB, resolveSettings } from './settings.ts';
import { validationError } from './validation.ts';
import { compareOutputs } from './verify.ts';
import { guardRunningJob } from './exit-guard.ts';
import { createScratchDir, removeAbandonedScratchDirs, scratchDirOf } from './scratch.ts';
import { planTotalOrder } from './total-order-plan.ts';

/** Events of a {@link JobHandle}. */
export interface JobHandleEvents {
  /** Once, when the job is planned and its first attempt is about to start. */
  started: [job: JobStart];
  progress: [snapshot: ProgressSnapshot];
  /** An attempt started or changed state (ended, committed, lost…): its history entry as it is now. */
  attempt: [attempt: AttemptHistoryEntry];
  /** Once, when the inputs were resolved, if entries of input directories were skipped (FIFOs…). */
  inputsSkipped: [skipped: SkippedInputsReport];
}

/** A running job. */
export class JobHandle extends EventEmitter<JobHandleEvents> {
  /** Resolves with the report when the job succeeds; rejects with a TsmrError when it fails. */
  readonly done: Promise<JobReport>;
  /** The report, once the job has ended (also when it failed after tasks ran). */
  report: JobReport | undefined;
  private stored: (() => AsyncGenerator<ResultRecord<Key, unknown>>) | undefined;

  constructor(run: (handle: JobHandle) => Promise<JobReport>) {
    super();
    this.done = run(this);
    this.done.catch(() => {});
  }

  /**
   * Results of a job run without `output`: `[key, value]` pairs in the order of
   * reduce keys (the key order), streamed from disk (bounded memory). The
   * temporary files are deleted when the iteration ends.
   * @throws TsmrError `TSMR_USAGE` when the job was given an `output` directory.
   */
  async *results<K = Key, V = unknown>(): AsyncGenerator<ResultRecord<K, V>> {
    await this.done;
    if (this.stored === undefined) {
      throw usageError('results() is only available for jobs run without an output directory, and only once');
    }
    const read = this.stored;
    this.stored = undefined;
    yield* read() as AsyncGenerator<ResultRecord<K, V>>;
  }

  /** @internal Keeps the reader of the committed results of a job run without output. */
  storeResults(read: () => AsyncGenerator<ResultRecord<Key, unknown>>): void {
    this.stored = read;
  }
}

/**
 * Runs a job on this machine: map tasks on `workers` threads, shuffle, reduce
 * tasks, commit.
 *
 * `job` is a `Job` from `defineJob` (exported from a module, so threads can
 * import it; with `workers: 0` any job works, in this thread), a module path or
 * URL, or a job reference (`{ kind: 'streaming', mapper, reducer }`).
 *
 * With `options.coordinator` the job runs on that cluster instead
 * (`cluster/client-submit.ts`): the same handle, fed by the coordinator.
 *
 * @returns a handle at once; `handle.done` settles when the job ends.
 */
export function runJob(job: Job | string | URL | JobRef, options: RunOptions): JobHandle {
  if (options.coordinator !== undefined) {
    // Imported on use: the cluster client (RPC, protobuf, esbuild) would otherwise load into every
    // program and worker thread that imports tsmr, where most never submit to a coordinator.
    return new JobHandle(async (handle) =>
      (await import('./cluster/client-submit.ts')).runOnCluster(handle, job, options),
    );
  }
  return new JobHandle((handle) => execute(handle, job, options));
}

/** Collects all results of a job run without `output` into an array. */
export async function collectResults<K = Key, V = unknown>(handle: JobHandle): Promise<ResultRecord<K, V>[]> {
  const out: ResultRecord<K, V>[] = [];
  for await (const record of handle.results<K, V>()) out.push(record);
  return out;
}

/**
 * The split size actually used: `splitSize`, lowered so that every worker gets
 * at least two splits when the input is small (Spark's `maxSplitBytes` does the
 * same with bytes per core), but not below 1 MiB.
 */
function effectiveSplitSize(files: readonly { size: number }[], settings: JobSettings): number {
  const total = files.reduce((n, f) => n + f.size, 0);
  const perWorker = Math.ceil(total / (2 * Math.max(1, settings.workers)));
  return Math.min(settings.splitSize, Math.max(MiB, perWorker));
}

/** A new job id, `job-<yyyymmdd>-<hhmmss>-<6 hex digits>` (UTC). */
export function newJobId(): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `job-${t}-${randomBytes(3).toString('hex')}`;
}

/**
 * Where a job's attempts run, as {@link executeJob} needs to know it: this
 * machine's threads (`runJob`), or a cluster's workers (the coordinator).
 */
export interface JobRuntime {
  /** The job's id (default: a new one, `job-<yyyymmdd>-<hhmmss>-<6 hex digits>`). */
  jobId?: string;
  /**
   * Cluster mode: the task slots of the workers now (the default R and the
   * split-size floor count them as `workers`). Absent: local threads, as
   * `options.workers` says.
   */
  clusterSlots?: number;
  /** Speculative backup attempts for stragglers (default false). */
  speculation?: boolean;
  /** Failed attempts on one worker before it is excluded from the job (default `Infinity`: never). */
  maxWorkerFailures?: number;
  /** Directory under which the job's scratch directory is made (default: `options.tmpDir`, else the OS temp dir). */
  scratchRoot?: string;
  /** The job's log (default: a new logger); the job id and name are added. */
  log?: Logger;
  /**
   * Cluster mode: in-memory input that the client spooled and uploaded, as
   * spool files on this machine; it replaces the records of `options.input`
   * (which must still be in-memory input, for the checks).
   */
  spooledInput?: InputFile[];
  /**
   * Cluster mode: takes the committed records outputs of a job run without
   * an output directory (they stay where their attempts wrote them), instead
   * of the handle keeping them for `results()`; the job's scratch directory is
   * then deleted as for a job with an output directory.
   */
  keepResults?(segments: SegmentRef[]): void;
  /** Runs the job's attempts. `workDir` is the job's scratch directory on this machine. */
  executor(body: JobBody, workDir: string, settings: JobSettings): AttemptExecutor;
}

const localRuntime: JobRuntime = {
  executor: (body, workDir, settings) => createLocalExecutor(settings.workers, body, workDir),
};

async function execute(
  handle: JobHandle,
  job: Job | string | URL | JobRef,
  options: RunOptions,
): Promise<JobReport> {
  if (options.verify && options.output === undefined) {
    throw usageError('verify needs an output directory to compare');
  }
  refuseJobStartedOnImport();
  const resolved = await resolveJob(job, options.workers === 0);
  return executeJob(handle, resolved, options, localRuntime, job);
}

/**
 * Plans, runs and commits a resolved job with `runtime`: what `runJob` does
 * on this machine and the coordinator does for a cluster job, so that both
 * plan the same splits, settings and output.
 *
 * @param verifyWith `--verify` (local mode only): the job as the user gave it, run again in-process.
 * @throws what the job's failure is (a TsmrError), after aborting its output.
 */
export async function executeJob(
  handle: JobHandle,
  resolved: ResolvedJob,
  options: RunOptions,
  runtime: JobRuntime,
  verifyWith?: Job | string | URL | JobRef,
): Promise<JobReport> {
  checkInputOptions(resolved.body, options);
  const settings = resolveSettings(options, resolved.body.reducers, runtime.clusterSlots);
  const jobId = runtime.jobId ?? newJobId();
  const log = (runtime.log ?? createLogger()).child({ jobId, job: resolved.body.name });
  const tmpRoot = resolve(runtime.scratchRoot ?? options.tmpDir ?? tmpdir());
  const workDir = scratchDirOf(tmpRoot, jobId);
  const jobPaths = await resolveJobPaths(resolved.body, options.input, settings.params);
  const pathInputs = jobPaths?.paths;
  const files = jobPaths?.groups.flatMap((g) => g.files);
  const skipped = skippedInputsReport(jobPaths?.groups.flatMap((g) => g.skipped) ?? []);
  const sideFiles = await resolveSideFiles([...(resolved.body.files ?? []), ...(options.files ?? [])]);
  if (skipped !== undefined) {
    log.warn(skipped, 'input entries skipped: they hold nothing to read');
    handle.emit('inputsSkipped', skipped);
  }
  const outputDir = options.output === undefined ? undefined : resolve(options.output);
  const output: PreparedOutput | undefined =
    outputDir === undefined
      ? undefined
      : await prepareOutput(outputDir, {
          overwrite: settings.overwrite,
          inputs: files?.map((f) => f.path) ?? [],
        });
  for (const dir of await removeAbandonedScratchDirs(tmpRoot, Date.now())) {
    log.info({ dir }, 'removed the scratch directory of a job whose process has ended');
  }
  let keepWorkDir = false;
  /** Until the driver has run, a failure leaves no trace in the output directory. */
  let driven = false;
  const release = guardRunningJob(jobId, workDir);
  try {
    await createScratchDir(workDir);
    let body = resolved.body;
    let inputFiles = files;
    if (inputFiles === undefined) {
      inputFiles =
        runtime.spooledInput ??
        (await spoolRecords(inMemoryRecords(options.input), join(workDir, 'input'), {
          bytesPerFile: settings.splitSize,
        }));
      body = { ...body, inputFormat: { type: 'records' } };
    }
    const splits = planJobSplits(jobPaths, inputFiles, effectiveSplitSize(inputFiles, settings));
    const partitioner = totalOrderOf(options, body);
    let sample: PhaseProgress | undefined;
    const totalOrder =
      partitioner === undefined || settings.reducers <= 1
        ? undefined
        : await planTotalOrder({
            jobId,
            splits,
            body,
            partitioner,
            settings,
            signal: options.signal,
            onProgress: (progress) => {
              sample = progress;
              handle.emit('progress', samplingSnapshot(jobId, progress, splits, settings));
            },
          });
    const executor = runtime.executor(body, workDir, settings);
    const committer = withJobFile(
      output === undefined ? recordsCommitter() : fileOutputCommitter(output, body.outputFormat),
      options.jobFile,
    );
    const reportSettings: JobSettingsReport = {
      inputs: pathInputs ?? ['<in-memory records>'],
      output: outputDir,
      workers: settings.workers,
      reducers: settings.reducers,
      splitSize: settings.splitSize,
      sortBufferBytes: settings.sortBufferBytes,
      mergeFanIn: settings.mergeFanIn,
      maxAttempts: settings.maxAttempts,
      taskTimeoutMs: finiteOrZero(settings.taskTimeoutMs),
      simulateFailures: settings.simulateFailures || undefined,
      seed: settings.simulateFailures || totalOrder ? settings.seed : undefined,
      skipBadRecords: settings.skipBadRecords || undefined,
      params: settings.params,
    };
    handle.emit('started', {
      jobId,
      name: body.name,
      startedAt: Date.now(),
      settings: reportSettings,
      tasks: { map: splits.length, reduce: settings.reducers },
      workers: [...executor.workers],
    });
    const driverResult = await driveJob({
      jobId,
      ref: resolved.ref,
      body,
      splits,
      settings,
      committer,
      executor,
      files: sideFiles,
      totalOrder: totalOrder?.spec,
      speculation: runtime.speculation ?? false,
      maxWorkerFailures: runtime.maxWorkerFailures,
      onProgress: (snapshot) =>
        handle.emit(
          'progress',
          sample === undefined
            ? snapshot
            : {
                ...snapshot,
                startedAt: sample.startedAt ?? snapshot.startedAt,
                phases: { sample, ...snapshot.phases },
              },
        ),
      onAttempt: (attempt) => handle.emit('attempt', attempt),
      log,
      signal: options.signal,
    }).finally(async () => {
      await executor.releaseJob(jobId);
      await executor.close();
    });
    driven = true;

    const startedAt = totalOrder?.phase.startedAt ?? driverResult.startedAt;
    const report: JobReport = {
      ...driverResult,
      startedAt,
      durationMs: driverResult.finishedAt - startedAt,
      phases: totalOrder ? { sample: totalOrder.phase, ...driverResult.phases } : driverResult.phases,
      totalOrder: totalOrder?.report,
      inputsSkipped: skipped,
      name: body.name,
      settings: reportSettings,
      outputFiles: [],
      outputBytes: 0,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    };
    handle.report = report;

    if (report.status !== 'succeeded') {
      await committer.abortJob(report);
      throw deserializeError(
        report.error ?? { name: 'TsmrError', code: ErrorCode.INTERNAL, message: 'job failed' },
      );
    }
    const invalid = validationError(report);
    if (invalid !== undefined) {
      report.status = 'failed';
      report.error = serializeError(invalid);
      await committer.abortJob(report);
      throw invalid;
    }
    if (settings.verify && verifyWith !== undefined) {
      try {
        await verify(verifyWith, options, committer, report);
      } catch (error) {
        report.status = 'failed';
        report.error = serializeError(error);
        await committer.abortJob(report);
        throw error;
      }
    }
    const committed = await committer.commitJob(async (files) => {
      report.outputFiles = files;
      for (const file of files) report.outputBytes += (await stat(file)).size;
      return report;
    });
    if (output === undefined) {
      report.outputFiles = committed.files;
      report.outputBytes = committed.segments.reduce((n, s) => n + s.length, 0);
      if (runtime.keepResults !== undefined) runtime.keepResults(committed.segments);
      else {
        handle.storeResults(() => readResults(committed.segments, workDir));
        keepWorkDir = true;
      }
    }
    return report;
  } catch (error) {
    if (!driven && output !== undefined) await discardOutput(output);
    throw error;
  } finally {
    if (!keepWorkDir) await rm(workDir, { recursive: true, force: true });
    release();
  }
}

/**
 * The total-order partitioner of a run: `options.totalOrder` (which replaces
 * the job's own `partition`), else the job's `totalOrder()`, else none.
 * @throws TsmrError `TSMR_BAD_JOB` for bad sampler options.
 */
function totalOrderOf(options: RunOptions, body: JobBody): TotalOrderPartitioner | undefined {
  const given = options.totalOrder;
  if (given === undefined || given === false) return body.totalOrder;
  return normalizeTotalOrder(given === true ? {} : given, 'runJob() totalOrder');
}

/** A progress snapshot while the input is sampled: map and reduce not started yet. */
function samplingSnapshot(
  jobId: string,
  sample: PhaseProgress,
  splits: readonly Split[],
  settings: JobSettings,
): ProgressSnapshot {
  const idle = (phase: 'map' | 'reduce', tasksTotal: number, bytesTotal: number): PhaseProgress => ({
    phase,
    tasksTotal,
    tasksDone: 0,
    tasksRunning: 0,
    bytesTotal,
    bytesDone: 0,
    records: 0,
  });
  return {
    jobId,
    now: Date.now(),
    startedAt: sample.startedAt ?? Date.now(),
    phases: {
      sample,
      map: idle(
        'map',
        splits.length,
        splits.reduce((n, s) => n + s.length, 0),
      ),
      reduce: idle('reduce', settings.reducers, 0),
    },
    failedAttempts: 0,
    stalled: [],
    taskTimeoutMs: finiteOrZero(settings.taskTimeoutMs),
  };
}

/** `--verify`: runs the job again sequentially, in this thread, and compares the part files. */
async function verify(
  job: Job | string | URL | JobRef,
  options: RunOptions,
  committer: OutputCommitter,
  report: JobReport,
): Promise<void> {
  const reference = join(resolve(options.tmpDir ?? tmpdir()), `tsmr-verify-${report.jobId}`);
  try {
    await runJob(job, {
      ...options,
      output: reference,
      overwrite: true,
      workers: 0,
      reducers: report.settings.reducers,
      simulateFailures: 0,
      verify: false,
      signal: options.signal,
    }).done;
    const parts = await committer.stagedParts();
    if (parts === undefined) throw usageError('verify needs an output directory to compare');
    const difference = await compareOutputs(parts, reference);
    report.validation.verifiedAgainstSequential = difference === undefined;
    if (difference !== undefined) {
      throw new TsmrError(
        ErrorCode.VERIFY_MISMATCH,
        `--verify: the output differs from a sequential run: ${difference}`,
      );
    }
  } finally {
    await rm(reference, { recursive: true, force: true });
  }
}
