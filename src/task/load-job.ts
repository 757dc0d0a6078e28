/**
 * Finding a job's code: by module path on the command line, by the `Job`
 * object given to `runJob`, and again inside each worker thread from a
 * {@link JobRef}.
 */
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';
import { isJob, jobsDefinedIn, validateJobDefinition } from '../api/define-job.ts';
import { isPipeline, type Pipeline } from '../api/pipeline.ts';
import type { Job } from '../api/types.ts';
import { ErrorCode, isTsmrError, TsmrError } from '../errors.ts';
import type { JobBody } from './job-body.ts';
import type { JobRef } from './messages.ts';
import { moduleJobBody } from './module-job-body.ts';

/** A job ready to run: how threads find it, and its body in this thread. */
export interface ResolvedJob {
  /** Undefined for an inline job that only runs in-process (`workers: 0`). */
  ref: JobRef | undefined;
  body: JobBody;
}

/**
 * Resolves what the user gave as a job.
 * - a path or URL of a module: imported; its default export, or its only job export, is the job;
 * - a `Job` from `defineJob`: with `inProcess` it runs as it is, nothing is
 *   imported (so a module may define and run a job at its top level); else
 *   worker threads import its defining module and find it by its position
 *   among that module's `defineJob` calls (a {@link JobRef} of kind `defined`;
 *   nothing is imported in this thread, where the module may still be
 *   evaluating its top-level `await runJob(…)`);
 * - a job reference (module export or streaming commands).
 *
 * @throws TsmrError `TSMR_BAD_JOB` (module missing, fails to load, no job export, no `map`);
 *   `TSMR_JOB_NOT_IMPORTABLE` when a job object was not made by `defineJob` in
 *   a module and `inProcess` is false.
 */
export async function resolveJob(job: Job | string | URL | JobRef, inProcess: boolean): Promise<ResolvedJob> {
  if (
    typeof job === 'object' &&
    'kind' in job &&
    (job.kind === 'streaming' || job.kind === 'module' || job.kind === 'defined')
  ) {
    return { ref: job, body: await loadJobBody(job) };
  }
  if (typeof job === 'string' || job instanceof URL) {
    const url = job instanceof URL ? job.href : toModuleUrl(job);
    const ref = await findJobExport(url);
    return { ref, body: await loadJobBody(ref) };
  }
  if (isPipeline(job)) {
    throw new TsmrError(
      ErrorCode.BAD_JOB,
      'runJob() was given a pipeline (definePipeline): run it with runPipeline(pipeline, options)',
    );
  }
  if (!isJob(job)) validateJobDefinition(job, 'runJob()');
  const body = moduleJobBody(job, job.moduleUrl ? stem(job.moduleUrl) : 'job');
  if (inProcess) return { ref: undefined, body };
  if (!isJob(job) || job.moduleUrl === undefined) {
    throw new TsmrError(
      ErrorCode.JOB_NOT_IMPORTABLE,
      'worker threads can only run a job made by defineJob() in a module file (they import that module to find it); ' +
        'define it with defineJob in a .ts/.js module, or run in-process with { workers: 0 }.',
    );
  }
  const ref: JobRef = {
    kind: 'defined',
    moduleUrl: job.moduleUrl,
    index: job.definitionIndex,
    fingerprint: jobFingerprint(job),
  };
  return { ref, body };
}

/**
 * SHA-256 of the names and source text of a job's functions, those of its
 * `inputs` included: the same job definition has the same fingerprint in
 * every thread and process.
 */
export function jobFingerprint(job: object): string {
  const hash = createHash('sha256');
  const add = (prefix: string, object: object): void => {
    for (const [name, value] of Object.entries(object).sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (typeof value === 'function') hash.update(`${prefix}${name}\0${String(value)}\0`);
    }
  };
  add('', job);
  const inputs = (job as { inputs?: unknown }).inputs;
  if (Array.isArray(inputs)) inputs.forEach((input: object, i) => add(`inputs.${i}.`, input));
  return hash.digest('hex');
}

/**
 * Set while this thread imports a job module: a job started during that
 * import is the module's own top-level `runJob`, which must not run again in
 * a worker thread (see {@link refuseJobStartedOnImport}).
 */
let importingJobModule: string | undefined;

/**
 * @throws TsmrError `TSMR_JOB_NOT_IMPORTABLE` when called while this thread
 *   imports a job module to load a job: the module starts a job when it is
 *   imported, and running it again in every worker thread would start the job
 *   again there (Python's multiprocessing refuses the same, for the same reason).
 */
export function refuseJobStartedOnImport(): void {
  if (importingJobModule === undefined) return;
  throw new TsmrError(
    ErrorCode.JOB_NOT_IMPORTABLE,
    `the job module ${importingJobModule} starts a job when it is imported, and tsmr imports it to load the job ` +
      '(in worker threads, and for `tsmr run`): guard the call with `if (import.meta.main) { … }` (Node ≥ 24.2), ' +
      'move the job into a module of its own, or run in-process with { workers: 0 }.',
  );
}

function toModuleUrl(path: string): string {
  if (/^(file|data):/.test(path)) return path;
  const absolute = resolve(path);
  if (!existsSync(absolute)) {
    throw new TsmrError(ErrorCode.BAD_JOB, `job module not found: ${path}`, { details: { file: absolute } });
  }
  return pathToFileURL(absolute).href;
}

async function importModule(url: string): Promise<Record<string, unknown>> {
  const outer = importingJobModule;
  importingJobModule = url;
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (cause) {
    if (isTsmrError(cause) && cause.code === ErrorCode.JOB_NOT_IMPORTABLE) throw cause;
    throw new TsmrError(ErrorCode.BAD_JOB, `cannot load job module ${url}: ${(cause as Error)?.message}`, {
      cause,
    });
  } finally {
    importingJobModule = outer;
  }
}

/**
 * The pipeline a module path on the command line names: its default export
 * if that is a pipeline (`definePipeline`), else its only pipeline export
 * when it has no default export; undefined for a module of a job.
 * @throws TsmrError `TSMR_BAD_JOB` when the module is missing or fails to load.
 */
export async function findPipelineExport(path: string): Promise<Pipeline | undefined> {
  const exports = await importModule(toModuleUrl(path));
  if (exports.default !== undefined) return isPipeline(exports.default) ? exports.default : undefined;
  const pipelines = Object.values(exports).filter(isPipeline);
  return pipelines.length === 1 ? pipelines[0] : undefined;
}

/** Finds the job export of `url`: its default export, else its only `defineJob` export. */
async function findJobExport(url: string): Promise<JobRef> {
  const exports = await importModule(url);
  if (exports.default !== undefined) {
    if (isPipeline(exports.default)) {
      throw new TsmrError(
        ErrorCode.BAD_JOB,
        `job module ${url} exports a pipeline (definePipeline), not a job: run it with tsmr run, or runPipeline (with a coordinator on a cluster)`,
      );
    }
    validateJobDefinition(exports.default, `job module ${url} (default export)`);
    return { kind: 'module', moduleUrl: url, exportName: 'default' };
  }
  const jobs = Object.entries(exports).filter(([, value]) => isJob(value));
  if (jobs.length === 1) return { kind: 'module', moduleUrl: url, exportName: jobs[0][0] };
  throw new TsmrError(
    ErrorCode.BAD_JOB,
    jobs.length === 0
      ? `job module ${url} exports no job: export default defineJob({ map, reduce })`
      : `job module ${url} exports several jobs (${jobs.map(([n]) => n).join(', ')}): export the one to run as default`,
  );
}

/** Imports the module of a `defined` job reference and finds that job among the ones it defined. */
async function findDefinedJob(ref: Extract<JobRef, { kind: 'defined' }>): Promise<Job> {
  await importModule(ref.moduleUrl);
  const defined = jobsDefinedIn(ref.moduleUrl);
  const atIndex = defined[ref.index];
  if (atIndex !== undefined && jobFingerprint(atIndex) === ref.fingerprint) return atIndex;
  const same = defined.filter((j) => j !== undefined && jobFingerprint(j) === ref.fingerprint);
  if (same.length === 1) return same[0] as Job;
  throw new TsmrError(
    ErrorCode.JOB_NOT_IMPORTABLE,
    `importing ${ref.moduleUrl} in a worker thread did not define the job again ` +
      `(it defined ${defined.length} job(s), none with the same functions at position ${ref.index}): ` +
      'define jobs at the top level of a module, not inside a function or a condition, ' +
      'and pass what varies as params; or run in-process with { workers: 0 }.',
  );
}

const bodies = new Map<string, Promise<JobBody>>();

/** Loads (once per thread) the body a {@link JobRef} points at. */
export function loadJobBody(ref: JobRef): Promise<JobBody> {
  const id = JSON.stringify(ref);
  let body = bodies.get(id);
  if (body === undefined) {
    body = loadUncached(ref);
    bodies.set(id, body);
    body.catch(() => bodies.delete(id));
  }
  return body;
}

async function loadUncached(ref: JobRef): Promise<JobBody> {
  if (ref.kind === 'streaming') {
    const { streamingJobBody } = await import('./streaming/streaming-job-body.ts');
    return streamingJobBody(ref);
  }
  if (ref.kind === 'defined') return moduleJobBody(await findDefinedJob(ref), stem(ref.moduleUrl));
  const exports = await importModule(ref.moduleUrl);
  const job = ref.step === undefined ? exports[ref.exportName] : pipelineStep(exports, ref);
  validateJobDefinition(job, `job module ${ref.moduleUrl} (export ${ref.exportName})`);
  return moduleJobBody(job as Job, stem(ref.moduleUrl));
}

/** Step `ref.step` of the pipeline that `ref.moduleUrl` exports as `ref.exportName`. */
function pipelineStep(exports: Record<string, unknown>, ref: Extract<JobRef, { kind: 'module' }>): Job {
  const pipeline = exports[ref.exportName];
  const step = isPipeline(pipeline) ? pipeline.steps[ref.step!] : undefined;
  if (step === undefined) {
    throw new TsmrError(
      ErrorCode.BAD_JOB,
      `job module ${ref.moduleUrl} has no pipeline export ${ref.exportName} with a step ${ref.step! + 1}`,
    );
  }
  return step;
}

function stem(url: string): string {
  return basename(new URL(url).pathname).replace(/\.[cm]?[jt]s$/, '');
}
