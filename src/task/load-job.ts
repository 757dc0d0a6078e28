/**
 * Finding a job's code: by module path on the command line, by the `Job`
 * object given to `runJob`, and again inside each worker thread from a
 * {@link JobRef}.
 */
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isJob, validateJobDefinition } from '../api/define-job.ts';
import type { Job } from '../api/types.ts';
import { ErrorCode, TsmrError } from '../errors.ts';
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
 * - a `Job` from `defineJob`: its defining module is imported and the export that is this job is found;
 * - a streaming job spec.
 *
 * @throws TsmrError `TSMR_BAD_JOB` (module missing, fails to load, no job export, no `map`);
 *   `TSMR_JOB_NOT_IMPORTABLE` when a `Job` object is not exported by any module and
 *   `inProcess` is false.
 */
export async function resolveJob(job: Job | string | URL | JobRef, inProcess: boolean): Promise<ResolvedJob> {
  if (typeof job === 'object' && 'kind' in job && (job.kind === 'streaming' || job.kind === 'module')) {
    return { ref: job, body: await loadJobBody(job) };
  }
  if (typeof job === 'string' || job instanceof URL) {
    const url = job instanceof URL ? job.href : toModuleUrl(job);
    const ref = await findJobExport(url, undefined);
    return { ref, body: await loadJobBody(ref) };
  }
  if (!isJob(job)) validateJobDefinition(job, 'runJob()');
  const name = job.moduleUrl ? stem(job.moduleUrl) : 'job';
  if (job.moduleUrl !== undefined) {
    const ref = await findJobExport(job.moduleUrl, job).catch(() => undefined);
    if (ref !== undefined) return { ref, body: moduleJobBody(job, name) };
  }
  if (inProcess) return { ref: undefined, body: moduleJobBody(job, name) };
  throw new TsmrError(
    ErrorCode.JOB_NOT_IMPORTABLE,
    'this job is not exported by a module, so worker threads cannot load it. ' +
      'Export it from a module (export default defineJob({...})) and pass the job or the module path, ' +
      'or run in-process with { workers: 0 }.',
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
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (cause) {
    throw new TsmrError(ErrorCode.BAD_JOB, `cannot load job module ${url}: ${(cause as Error)?.message}`, {
      cause,
    });
  }
}

/** Finds the export of `url` that is `target` (or, without target, the job export). */
async function findJobExport(url: string, target: Job | undefined): Promise<JobRef> {
  const exports = await importModule(url);
  if (target !== undefined) {
    for (const [name, value] of Object.entries(exports)) {
      if (value === target) return { kind: 'module', moduleUrl: url, exportName: name };
    }
    throw new TsmrError(ErrorCode.JOB_NOT_IMPORTABLE, `the job is not exported by ${url}`);
  }
  if (exports.default !== undefined) {
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
    const { streamingJobBody } = await import('../streaming/streaming-job-body.ts');
    return streamingJobBody(ref);
  }
  const exports = await importModule(ref.moduleUrl);
  const job = exports[ref.exportName];
  validateJobDefinition(job, `job module ${ref.moduleUrl} (export ${ref.exportName})`);
  return moduleJobBody(job as Job, stem(ref.moduleUrl));
}

function stem(url: string): string {
  return basename(new URL(url).pathname).replace(/\.[cm]?[jt]s$/, '');
}
