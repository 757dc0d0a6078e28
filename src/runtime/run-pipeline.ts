/**
 * `runPipeline`: runs the steps of a pipeline (`definePipeline`) one after
 * the other, each as a job (`runJob`) whose input is the output of the step
 * before, in tsmr's binary record format. A layer on top of `runJob`: each
 * step plans, schedules, commits and fails as a job does.
 *
 * Where the steps write: every step but the last into the pipeline's scratch
 * directory (`<tmp>/tsmr-job-pipeline-…/steps/<i>-<name>/`), each removed
 * once the next step has read it; the last step into the pipeline's output.
 * On a cluster (`coordinator`) each step is a cluster job, and the scratch
 * directory must be on the file system the workers share: it is made next
 * to the output (`<dirname(output)>/tsmr-job-pipeline-…/`), or under
 * `tmpDir` when given (a shared directory, for a pipeline without `output`).
 * With `keepIntermediate`, the intermediate outputs are moved to
 * `<out>/_steps/<i>-<name>/` once the last step has committed (after
 * `_SUCCESS`: a directory under `_` is not read as input by a later job).
 */
import { EventEmitter } from 'node:events';
import { cp, mkdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { isPipeline, type Pipeline } from '../api/pipeline.ts';
import type { Job, Key } from '../api/types.ts';
import type {
  JobReport,
  PipelineReport,
  PipelineStepPosition,
  PipelineStepReport,
} from '../engine/job-report.ts';
import {
  ErrorCode,
  isTsmrError,
  type SerializedError,
  serializeError,
  TsmrError,
  usageError,
} from '../errors.ts';
import { discardOutput, prepareOutput, replaceJobReport } from '../io/committer.ts';
import { ioError } from '../io/io-error.ts';
import { refuseJobStartedOnImport } from '../task/load-job.ts';
import { guardRunningJob } from './exit-guard.ts';
import { isPathInput } from './job-inputs.ts';
import { type JobHandle, type JobHandleEvents, newJobId, runJob } from './run-job.ts';
import type { ResultRecord, RunOptions } from './run-options.ts';
import { createScratchDir, scratchDirOf } from './scratch.ts';

/** Options of `runPipeline` (and of `tsmr run pipeline.ts`): those of `runJob`, for every step. */
export interface PipelineRunOptions extends Omit<RunOptions, 'totalOrder' | 'jobFile'> {
  /**
   * Keep the output of every step but the last, under
   * `<out>/_steps/<i>-<name>/` (as each step committed it: part files in
   * tsmr's binary format, `_job.json`, `_SUCCESS`). Default false: each is
   * removed once the next step has read it. Needs `output`.
   */
  keepIntermediate?: boolean;
}

/** A step that is about to start: where it stands, and its job's handle. */
export interface PipelineStepStart extends PipelineStepPosition {
  handle: JobHandle;
}

/**
 * Events of a {@link PipelineHandle}: those of each step's {@link JobHandle},
 * passed on (`progress` snapshots carry `step`), and `step` when a step starts.
 */
export interface PipelineHandleEvents extends JobHandleEvents {
  step: [step: PipelineStepStart];
}

/** A running pipeline. */
export class PipelineHandle extends EventEmitter<PipelineHandleEvents> {
  /** Resolves with the report when every step succeeded; rejects with the error of the step that failed. */
  readonly done: Promise<PipelineReport>;
  /** The report, once the pipeline has ended (also when it failed after a step ran). */
  report: PipelineReport | undefined;
  #lastStep: JobHandle | undefined;

  constructor(run: (handle: PipelineHandle) => Promise<PipelineReport>) {
    super();
    this.done = run(this);
    this.done.catch(() => {});
  }

  /**
   * Results of a pipeline run without `output`: the last step's `[key,
   * value]` pairs, as `JobHandle.results()` gives them.
   * @throws TsmrError `TSMR_USAGE` when the pipeline was given an `output` directory.
   */
  async *results<K = Key, V = unknown>(): AsyncGenerator<ResultRecord<K, V>> {
    await this.done;
    yield* (this.#lastStep as JobHandle).results<K, V>();
  }

  /** @internal The handle of the step that runs now. */
  set running(step: JobHandle) {
    this.#lastStep = step;
  }
}

/**
 * Runs a pipeline: its steps one after the other, each with `runJob` and the
 * same options (workers or a coordinator, side files, params, skip mode…),
 * except that only the first step reads `input` and only the last writes
 * `output` (and `overwrite` applies to it). `reducers` is the R of steps
 * that do not set their own `reducers` (a step without `reduce` is map-only).
 *
 * The output directory is checked before the first step (it must not exist,
 * unless `overwrite`); a failing step fails the pipeline with that step's
 * error (`details.step`), and a step before the last leaves nothing in the
 * output. Cancelling (`signal`) cancels the step that runs.
 *
 * @returns a handle at once; `handle.done` settles when the pipeline ends.
 * @throws (through `done`) TsmrError `TSMR_BAD_JOB` for what is not a
 *   pipeline; `TSMR_USAGE` for `totalOrder` (set `partition: totalOrder()` on
 *   a step instead), for `keepIntermediate` without `output`, and for a
 *   `coordinator` without `output` or `tmpDir` (the steps' outputs need a
 *   shared directory);
 *   `TSMR_OUTPUT_EXISTS`; a step's error.
 */
export function runPipeline(pipeline: Pipeline, options: PipelineRunOptions): PipelineHandle {
  return new PipelineHandle((handle) => execute(handle, pipeline, options));
}

async function execute(
  handle: PipelineHandle,
  pipeline: Pipeline,
  options: PipelineRunOptions,
): Promise<PipelineReport> {
  if (!isPipeline(pipeline)) {
    throw new TsmrError(
      ErrorCode.BAD_JOB,
      'runPipeline() needs a pipeline made by definePipeline([...steps])',
    );
  }
  const given = options as RunOptions;
  if (given.totalOrder !== undefined && given.totalOrder !== false) {
    throw usageError(
      'total order (--total-order) sorts one job’s output: set partition: totalOrder() on the step that should sort',
    );
  }
  const onCluster = options.coordinator !== undefined;
  if (onCluster && options.output === undefined && options.tmpDir === undefined) {
    throw usageError(
      'a pipeline on a cluster writes its steps’ outputs next to its output, on the file system the workers ' +
        'share: give an output, or tmpDir (a shared directory)',
    );
  }
  if (options.keepIntermediate && options.output === undefined) {
    throw usageError(
      'keepIntermediate (--keep-intermediate) keeps the steps’ outputs under <output>/_steps/: give an output',
    );
  }
  refuseJobStartedOnImport();
  const pipelineId = newJobId().replace(/^job-/, 'pipeline-');
  const startedAt = Date.now();
  const steps = pipeline.steps;
  const output = options.output === undefined ? undefined : resolve(options.output);
  const scratchRoot = options.tmpDir ?? (onCluster ? dirname(output!) : tmpdir());
  const scratch = scratchDirOf(resolve(scratchRoot), `job-${pipelineId}`);
  const keep = options.keepIntermediate === true;
  const kept = (i: number): string | undefined =>
    keep && output !== undefined && i < steps.length - 1
      ? join(output, '_steps', stepDirName(i, steps[i]!))
      : undefined;
  const ran: PipelineStepReport[] = [];
  const reportOf = (
    status: PipelineReport['status'],
    reports: PipelineStepReport[],
    error?: SerializedError,
  ): PipelineReport => {
    const finishedAt = Date.now();
    const last = reports.length === steps.length ? reports[reports.length - 1]?.report : undefined;
    return {
      kind: 'pipeline',
      pipelineId,
      name: pipeline.name,
      status,
      startedAt,
      finishedAt,
      durationMs: finishedAt - startedAt,
      stepNames: steps.map((s) => s.name!),
      steps: [...reports],
      output,
      keepIntermediate: keep,
      outputFiles: last?.outputFiles ?? [],
      outputBytes: last?.outputBytes ?? 0,
      outputRecords: last?.outputRecords ?? 0,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      error,
    };
  };

  const release = guardRunningJob(pipelineId, scratch);
  try {
    if (output !== undefined) {
      // Refused now, not after the steps before the last have run.
      const inputs = isPathInput(options.input) ? [options.input].flat() : [];
      await discardOutput(await prepareOutput(output, { overwrite: options.overwrite ?? false, inputs }));
    }
    await createScratchDir(scratch);
    let input = options.input;
    for (const [i, job] of steps.entries()) {
      const position: PipelineStepPosition = { index: i + 1, count: steps.length, name: job.name! };
      if (options.signal?.aborted) {
        throw new TsmrError(
          ErrorCode.CANCELLED,
          `the pipeline was cancelled before step ${i + 1} (${job.name})`,
          {
            details: { step: position },
          },
        );
      }
      const last = i === steps.length - 1;
      const stepOutput = last ? options.output : join(scratch, 'steps', stepDirName(i, job));
      const { keepIntermediate: _keep, tmpDir, ...common } = options;
      const step = runJob(job, {
        ...common,
        tmpDir: onCluster ? undefined : tmpDir,
        input,
        output: stepOutput,
        overwrite: last ? options.overwrite : false,
        reducers: reducersOf(job, options.reducers),
        // The last step's _job.json is the pipeline's report, with this step's as its last section.
        jobFile: last
          ? (report: JobReport) =>
              reportOf(report.status, [...ran, { step: i + 1, name: job.name!, report }], report.error)
          : undefined,
      });
      follow(handle, step, position);
      const report = await step.done.catch(async (error: unknown) => {
        if (step.report !== undefined) ran.push({ step: i + 1, name: job.name!, report: step.report });
        if (isTsmrError(error)) error.details.step = position;
        if (last && onCluster && step.report !== undefined) {
          const failed = reportOf(step.report.status, ran, step.report.error);
          await pipelineJobFile(output, failed).catch(() => {}); // the step's error is the one to throw
        }
        throw error;
      });
      ran.push({ step: i + 1, name: job.name!, keptOutput: kept(i), report });
      if (last && onCluster) await pipelineJobFile(output, reportOf('succeeded', ran));
      if (i > 0 && !keep) await removeDir(join(scratch, 'steps', stepDirName(i - 1, steps[i - 1]!)));
      input = stepOutput;
    }
    for (const [i, job] of steps.entries()) {
      const to = kept(i);
      if (to !== undefined) await moveDir(join(scratch, 'steps', stepDirName(i, job)), to);
    }
    handle.report = reportOf('succeeded', ran);
    return handle.report;
  } catch (error) {
    const cancelled = isTsmrError(error) && error.code === ErrorCode.CANCELLED;
    handle.report = reportOf(cancelled ? 'cancelled' : 'failed', ran, serializeError(error));
    throw error;
  } finally {
    await rm(scratch, { recursive: true, force: true });
    release();
  }
}

/**
 * On a cluster the coordinator wrote the last step's own report to
 * `<out>/_job.json` (a function cannot travel in a submission): the
 * pipeline's report replaces it, as local mode writes it.
 */
async function pipelineJobFile(output: string | undefined, report: PipelineReport): Promise<void> {
  if (output !== undefined) await replaceJobReport(output, report);
}

/** Passes a step's events on to the pipeline's handle. */
function follow(handle: PipelineHandle, step: JobHandle, position: PipelineStepPosition): void {
  handle.running = step;
  step.on('started', (start) => handle.emit('started', start));
  step.on('progress', (snapshot) => handle.emit('progress', { ...snapshot, step: position }));
  step.on('attempt', (attempt) => handle.emit('attempt', attempt));
  step.on('inputsSkipped', (skipped) => handle.emit('inputsSkipped', skipped));
  handle.emit('step', { ...position, handle: step });
}

/** R of a step: its own `reducers`, else the run's; none for a map-only step (no `reduce`). */
function reducersOf(job: Job, reducers: number | undefined): number | undefined {
  return job.reduce === undefined ? undefined : (job.reducers ?? reducers);
}

/** `1-count`: the directory of step `i`'s output (name characters other than letters, digits, `.`, `_`, `-` become `_`). */
function stepDirName(i: number, job: Job): string {
  return `${i + 1}-${job.name!.replace(/[^\w.-]/g, '_')}`;
}

async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true }).catch(() => {}); // the scratch's removal at the end retries
}

/** Moves a directory, by rename, or by copy and removal across file systems. */
async function moveDir(from: string, to: string): Promise<void> {
  try {
    await mkdir(dirname(to), { recursive: true });
    await rename(from, to).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EXDEV') throw error;
      await cp(from, to, { recursive: true });
      await rm(from, { recursive: true, force: true });
    });
  } catch (cause) {
    throw ioError(`cannot keep the intermediate output ${from} as ${to}`, cause, { path: to });
  }
}
