/**
 * The thread in which `client-job-ref.ts` finds the export name of a job
 * object: it imports the job's module afresh (as a worker thread of local
 * mode does) and answers the names under which that module exports the job,
 * found by its definition position and fingerprint, or the pipelines it
 * exports that have the job as a step (with the step's index).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isJob } from '../../api/define-job.ts';
import { isPipeline } from '../../api/pipeline.ts';
import { serializeError } from '../../errors.ts';
import { jobFingerprint } from '../../task/load-job.ts';

const { moduleUrl, index, fingerprint } = (
  workerData as { tsmrFindExport: { moduleUrl: string; index: number; fingerprint: string } }
).tsmrFindExport;
try {
  const exports = (await import(moduleUrl)) as Record<string, unknown>;
  const isIt = (value: unknown): boolean =>
    isJob(value) &&
    value.moduleUrl === moduleUrl &&
    value.definitionIndex === index &&
    jobFingerprint(value) === fingerprint;
  const names = Object.entries(exports)
    .filter(([, value]) => isIt(value))
    .map(([name]) => name);
  const steps = Object.entries(exports).flatMap(([name, value]) =>
    isPipeline(value) && value.steps.some(isIt) ? [{ name, step: value.steps.findIndex(isIt) }] : [],
  );
  parentPort?.postMessage({ names, steps });
} catch (error) {
  parentPort?.postMessage({ error: serializeError(error) });
}
