/**
 * Multi-step pipelines: jobs run one after the other, each reading the output
 * of the one before (mrjob's `MRStep`s, Spark's chained stages, Hadoop's
 * `JobControl` chain). This file only defines them; `runPipeline` runs them.
 */
import { ErrorCode, TsmrError } from '../errors.ts';
import { callerModuleUrl, defineJobAt, isJob, validateJobDefinition } from './define-job.ts';
import type { InputFormat, Job, JobDefinition, OutputFormat } from './types.ts';

/** A step of {@link definePipeline}: a job from `defineJob`, or a job definition. */
/* eslint-disable-next-line @typescript-eslint/no-explicit-any -- steps of any types */
export type PipelineStep = Job | JobDefinition<any, any, any, any, any, any>;

/** A pipeline as returned by {@link definePipeline}. */
export interface Pipeline {
  readonly __tsmrPipeline: true;
  /** Name in reports (default: the defining module's file name). */
  readonly name: string;
  /**
   * The steps as they run: jobs defined in the pipeline's module, each with
   * `inputFormat: 'tsmr'` (but the first) and `outputFormat: 'tsmr'` (but the
   * last), each with a name.
   */
  readonly steps: readonly Job[];
  /** URL of the module that called `definePipeline`, when it could be determined. */
  readonly moduleUrl: string | undefined;
}

/**
 * Defines a pipeline of jobs run one after the other: step 1 reads the
 * pipeline's input as a job does, and every later step reads the output of
 * the step before it, in tsmr's binary record format (`'tsmr'`), so keys and
 * values keep their types (tuples, numbers, bigints, strings, Buffers,
 * objects): no text round trip. The last step writes the pipeline's output
 * in its own `outputFormat`. A step without `reduce` is map-only (R = 0).
 *
 * ```ts
 * const count = defineJob({ name: 'count', map(…) { ctx.emit([genre, word], 1) }, combineValues: (a, b) => a + b, reduce(…) { ctx.emit(key, n) } });
 * const top = defineJob({ name: 'top', map([genre, word]: [string, string], n: number, ctx) { ctx.emit(genre, [n, word]) }, reduce(…) { … } });
 * export default definePipeline([count, top]);
 * ```
 *
 * Define it at the top level of a module, as jobs are: worker threads import
 * that module and find each step's job again. Each step becomes a job
 * defined by that module (a `Job` given as a step is defined again there,
 * with the formats of its place). `tsmr run pipeline.ts` runs the module's
 * default export (or its only pipeline export); `runPipeline(pipeline, …)`
 * runs it from a program.
 *
 * Step names (reports, intermediate directories) are each step's `name`, else
 * the file name of the module a `Job` step was defined in, else `step-<i>`.
 *
 * @param steps at least one job or job definition.
 * @param options.name the pipeline's name in reports (default: the module's file name).
 * @throws TsmrError `TSMR_BAD_JOB` when there is no step, a step is not a
 *   valid job (see `defineJob`), a step after the first has `inputs` or an
 *   `inputFormat` other than `'tsmr'` (it reads the step before), or a step
 *   before the last an `outputFormat` other than `'tsmr'`.
 */
export function definePipeline(steps: readonly PipelineStep[], options: { name?: string } = {}): Pipeline {
  if (!Array.isArray(steps) || steps.length === 0) {
    throw new TsmrError(
      ErrorCode.BAD_JOB,
      'definePipeline() needs an array of at least one step: definePipeline([countJob, topJob])',
    );
  }
  const moduleUrl = callerModuleUrl(import.meta.url);
  const last = steps.length - 1;
  const jobs = steps.map((step, i) => {
    const where = `definePipeline() step ${i + 1}`;
    validateJobDefinition(step, where);
    if (i > 0) {
      if (step.inputs !== undefined) {
        throw new TsmrError(
          ErrorCode.BAD_JOB,
          `${where} has inputs; only the first step reads the pipeline's input, every later step the output of the step before`,
        );
      }
      refuseFormat(step.inputFormat, `${where} has inputFormat ${describe(step.inputFormat)}`);
    }
    if (i < last) {
      refuseFormat(step.outputFormat, `${where} has outputFormat ${describe(step.outputFormat)}`);
    }
    const name =
      step.name ?? (isJob(step) && step.moduleUrl !== moduleUrl ? stem(step.moduleUrl) : undefined);
    return defineJobAt(
      {
        ...step,
        name: name ?? `step-${i + 1}`,
        inputFormat: i > 0 ? 'tsmr' : step.inputFormat,
        outputFormat: i < last ? 'tsmr' : step.outputFormat,
      },
      moduleUrl,
    );
  });
  return Object.freeze({
    __tsmrPipeline: true as const,
    name: options.name ?? stem(moduleUrl) ?? 'pipeline',
    steps: Object.freeze(jobs),
    moduleUrl,
  });
}

/** True when `value` was made by {@link definePipeline} (in any realm). */
export function isPipeline(value: unknown): value is Pipeline {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { __tsmrPipeline?: unknown }).__tsmrPipeline === true
  );
}

/** Refuses a format between two steps that is not tsmr's binary one. */
function refuseFormat(format: InputFormat | OutputFormat | undefined, what: string): void {
  if (
    format === undefined ||
    format === 'tsmr' ||
    (typeof format === 'object' && 'type' in format && format.type === 'tsmr')
  )
    return;
  throw new TsmrError(
    ErrorCode.BAD_JOB,
    `${what}; between the steps of a pipeline records travel in tsmr's binary format ('tsmr'): leave the format out`,
  );
}

function describe(format: unknown): string {
  return JSON.stringify(format) ?? String(format);
}

/** `genre-words` for `file:///…/genre-words.ts`; undefined without a URL. */
function stem(url: string | undefined): string | undefined {
  return url === undefined ? undefined : /([^/]+?)(\.[cm]?[jt]s)?$/.exec(new URL(url).pathname)?.[1];
}
