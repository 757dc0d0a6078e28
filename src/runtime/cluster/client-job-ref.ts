/**
 * What a cluster runs for a job that the client names: a module job becomes
 * a bundle (`job-bundle.ts`) and the name of its export, `{ kind: 'module',
 * bundleSha256, exportName }`; streaming commands go as they are.
 *
 * A worker finds a module job by its export name in the bundle, never by
 * where `defineJob` was called (a bundled module has other source text and
 * URLs, see docs/cluster.md), so the job must be exported:
 * - a module path or URL: its default export, else its only job export,
 *   as `tsmr run` chooses (`resolveJob`);
 * - a `Job` object: the name its module exports it under, found by importing
 *   that module in a thread of its own (the calling module may still be
 *   evaluating its top-level `await runJob(…)`, so this thread cannot import it);
 *   or, for a step of a pipeline (`runPipeline` on a cluster), the name of the
 *   pipeline's export and the step's index (`step`).
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { isJob } from '../../api/define-job.ts';
import type { Job } from '../../api/types.ts';
import { ownModuleUrl } from '../../own-module-url.ts';
import { deserializeError, ErrorCode, TsmrError } from '../../errors.ts';
import type { SerializedError } from '../../errors.ts';
import type { JobRef } from '../../task/messages.ts';
import { resolveJob } from '../../task/load-job.ts';
import { bundleJob } from './job-bundle.ts';
import type { JobBundle } from './job-bundle.ts';
import type { WireJobRef } from './wire-common.ts';

export interface ClusterJobRef {
  ref: WireJobRef;
  /** The bundle to upload; absent for streaming commands. */
  bundle?: JobBundle;
}

/**
 * @throws TsmrError `TSMR_BAD_JOB` when the module is missing, does not load,
 *   exports no job or does not bundle; `TSMR_JOB_NOT_IMPORTABLE` for a job
 *   object that its module does not export (or that no module defined).
 */
export async function clusterJobRef(job: Job | string | URL | JobRef): Promise<ClusterJobRef> {
  if (isJob(job) && job.moduleUrl === undefined) throw notExported('a job that no module file defined');
  const { ref } = await resolveJob(job, false);
  if (ref?.kind === 'streaming') return { ref };
  if (ref === undefined) throw notExported('an inline job');
  const { moduleUrl, ...exported } = ref.kind === 'module' ? ref : await exportOf(ref);
  const bundle = await bundleJob(moduleUrl);
  return { ref: { ...exported, bundleSha256: bundle.sha256 }, bundle };
}

type DefinedRef = Extract<JobRef, { kind: 'defined' }>;

/**
 * The export of `ref.moduleUrl` that is the job (`default` first when there
 * are several), else the pipeline export that has it as a step.
 */
async function exportOf(ref: DefinedRef): Promise<Extract<JobRef, { kind: 'module' }>> {
  const { moduleUrl, index, fingerprint } = ref;
  const thread = new Worker(ownModuleUrl('./client-export-thread.ts', import.meta.url), {
    workerData: { tsmrFindExport: { moduleUrl, index, fingerprint } },
    stdout: false,
  });
  const [answer] = (await Promise.race([
    once(thread, 'message'),
    once(thread, 'error').then(([error]) => [{ error: { name: 'Error', message: String(error) } }]),
    once(thread, 'exit').then(([code]) => [
      { error: { name: 'Error', message: `it exited (code ${code})` } },
    ]),
  ])) as [{ names?: string[]; steps?: { name: string; step: number }[]; error?: SerializedError }];
  await thread.terminate();
  if (answer.error !== undefined) {
    throw new TsmrError(ErrorCode.BAD_JOB, `cannot load job module ${moduleUrl}: ${answer.error.message}`, {
      cause: deserializeError(answer.error),
    });
  }
  const names = answer.names ?? [];
  const [step] = answer.steps ?? [];
  if (names.length === 0 && step !== undefined)
    return { kind: 'module', moduleUrl, exportName: step.name, step: step.step };
  if (names.length === 0)
    throw notExported(`the job defined by ${moduleUrl} (its defineJob call #${index + 1})`);
  return { kind: 'module', moduleUrl, exportName: names.includes('default') ? 'default' : names[0] };
}

function notExported(what: string): TsmrError {
  return new TsmrError(
    ErrorCode.JOB_NOT_IMPORTABLE,
    `${what} is not exported: cluster workers load a job by its export name from the job's bundle; ` +
      'export it (export default defineJob({ … }), or export const myJob = defineJob({ … })) ' +
      'or pass the module path instead of the job object',
  );
}
