/**
 * Running a job on a cluster from the client: bundle the job, upload the
 * bundle, submit (`SubmitJob`, idempotent per submission id, so a lost answer
 * is retried), then follow the job (`WatchJob`) into the same
 * {@link JobHandle} as local mode: `progress` events, `handle.report`, and
 * `done`, which resolves with the report or rejects with the job's error.
 *
 * Cancelling (`options.signal`) sends `CancelJob` and waits for the
 * coordinator's report of the cancelled job (at most {@link CANCEL_WAIT_MS});
 * `done` then rejects with `TSMR_CANCELLED`. A watch stream that breaks
 * (the coordinator restarted, a network blip) is opened again, up to
 * {@link WATCH_RETRIES} times; watching an ended job gives its report.
 */
import { randomUUID } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { isMainThread, workerData } from 'node:worker_threads';
import type { Job } from '../../api/types.ts';
import type { JobReport } from '../../engine/job-report.ts';
import { deserializeError, ErrorCode, isTsmrError, TsmrError, usageError } from '../../errors.ts';
import type { JobRef } from '../../task/messages.ts';
import type { JobHandle } from '../run-job.ts';
import type { RunOptions } from '../run-options.ts';
import { createClusterClient, resolveConnection } from './client.ts';
import type { ClusterClient } from './client.ts';
import { clusterJobRef } from './client-job-ref.ts';
import type { ClusterRunOptions } from './wire-job.ts';

/** How long a cancelled job's report may take to come, ms; then `done` rejects without it. */
export const CANCEL_WAIT_MS = 10_000;
/** Times a broken watch stream is opened again. */
export const WATCH_RETRIES = 3;
const WATCH_RETRY_BASE_MS = 500;

/** A job the coordinator has queued. */
export interface SubmittedJob {
  jobId: string;
  client: ClusterClient;
}

/**
 * Bundles, uploads and submits a job.
 * @throws TsmrError `TSMR_USAGE` for options that a cluster does not take;
 *   `TSMR_BAD_JOB` / `TSMR_JOB_NOT_IMPORTABLE` for a job that cannot be
 *   shipped (`client-job-ref.ts`); the errors of `client.ts` for RPCs.
 */
export async function submitToCluster(
  job: Job | string | URL | JobRef,
  options: RunOptions,
): Promise<SubmittedJob> {
  if (
    !isMainThread &&
    (workerData as { tsmrFindExport?: unknown } | undefined)?.tsmrFindExport !== undefined
  ) {
    throw new TsmrError(
      ErrorCode.JOB_NOT_IMPORTABLE,
      'the job module starts a job when it is imported, and tsmr imports it to find the job’s export: ' +
        'guard the call with `if (import.meta.main) { … }` (Node ≥ 24.2), or move the job into a module of its own',
    );
  }
  const clusterOptions = toClusterOptions(options);
  const { ref, bundle } = await clusterJobRef(job);
  const client = createClusterClient(
    resolveConnection({ coordinator: options.coordinator, token: options.token }),
  );
  try {
    if (bundle !== undefined) await client.uploadBundle(bundle.sha256, bundle.bytes);
    const jobId = await client.submit({ submissionId: randomUUID(), job: ref, options: clusterOptions });
    return { jobId, client };
  } catch (error) {
    client.close();
    throw error;
  }
}

/** `runJob` with `options.coordinator`: submits, then follows the job into `handle`. */
export async function runOnCluster(
  handle: JobHandle,
  job: Job | string | URL | JobRef,
  options: RunOptions,
): Promise<JobReport> {
  return followClusterJob(handle, await submitToCluster(job, options), options.signal);
}

/**
 * Follows a submitted job into `handle` until its report; closes the client.
 * `signal` cancels the job.
 * @returns the report of a succeeded job.
 * @throws the job's error (its report is in `handle.report`); `TSMR_CANCELLED`
 *   when cancelled; `TSMR_UNAVAILABLE` when the coordinator is lost.
 */
export async function followClusterJob(
  handle: JobHandle,
  { jobId, client }: SubmittedJob,
  signal?: AbortSignal,
): Promise<JobReport> {
  const stop = new AbortController();
  let giveUp: NodeJS.Timeout | undefined;
  const onAbort = (): void => {
    client.cancel(jobId, `cancelled by the client: ${String(signal?.reason ?? 'signal')}`).catch(() => {});
    giveUp = setTimeout(() => stop.abort(), CANCEL_WAIT_MS);
  };
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const report = await watchUntilReport(handle, client, jobId, stop.signal);
    handle.report = report;
    if (report.status === 'succeeded') return report;
    throw report.error === undefined
      ? new TsmrError(
          report.status === 'cancelled' ? ErrorCode.CANCELLED : ErrorCode.INTERNAL,
          `job ${jobId} ${report.status}`,
        )
      : deserializeError(report.error);
  } catch (error) {
    if (stop.signal.aborted) {
      throw new TsmrError(
        ErrorCode.CANCELLED,
        `job ${jobId} was cancelled, but the coordinator at ${client.url} did not report it ended within ` +
          `${CANCEL_WAIT_MS / 1000} s: see tsmr status --job ${jobId}`,
        { details: { jobId } },
      );
    }
    throw error;
  } finally {
    clearTimeout(giveUp);
    signal?.removeEventListener('abort', onAbort);
    client.close();
  }
}

async function watchUntilReport(
  handle: JobHandle,
  client: ClusterClient,
  jobId: string,
  stop: AbortSignal,
): Promise<JobReport> {
  for (let retry = 0; ; retry++) {
    try {
      for await (const event of client.watch(jobId, stop)) {
        if (event.type === 'report') return event.report;
        if (event.type === 'progress') handle.emit('progress', event.snapshot);
        else if (event.type === 'started') handle.emit('started', event.start);
        else handle.emit('attempt', event.attempt);
      }
      if (!stop.aborted) throw await endedWithoutReport(client, jobId);
    } catch (error) {
      if (stop.aborted || !isTsmrError(error) || error.code !== ErrorCode.UNAVAILABLE) throw error;
      if (retry >= WATCH_RETRIES) {
        throw new TsmrError(
          ErrorCode.UNAVAILABLE,
          `lost the coordinator at ${client.url} while watching job ${jobId}; the job may still run ` +
            `there: see tsmr status --job ${jobId}`,
          { cause: error, details: { jobId } },
        );
      }
    }
    await new Promise((r) => setTimeout(r, WATCH_RETRY_BASE_MS * 2 ** retry));
  }
}

/**
 * A job whose watch ended without a report failed (or was cancelled) before
 * it ran tasks (a bad option, an existing output directory, a job that
 * cannot be imported): its error, as `GetStatus` has it.
 */
async function endedWithoutReport(client: ClusterClient, jobId: string): Promise<Error> {
  const job = (await client.status(jobId)).jobs.find((j) => j.jobId === jobId);
  if (job?.error !== undefined) return deserializeError(job.error);
  return new TsmrError(
    ErrorCode.INTERNAL,
    `job ${jobId} ended without a report (${job?.state ?? 'unknown'}); see tsmr status --job ${jobId}`,
    { details: { jobId } },
  );
}

/**
 * The options of a cluster job, with paths made absolute here (the
 * coordinator and workers have other working directories).
 * @throws TsmrError `TSMR_USAGE` for options a cluster does not take.
 */
export function toClusterOptions(options: RunOptions): ClusterRunOptions {
  const localOnly = (['workers', 'verify', 'tmpDir'] as const).filter((k) => options[k] !== undefined);
  if (localOnly.length > 0) {
    throw usageError(
      `${localOnly.join(', ')}: local-mode options; on a cluster the workers' slots run the tasks`,
    );
  }
  if (options.output === undefined) {
    throw usageError(
      'cluster mode needs an output directory on the shared file system: results() without one is not supported in cluster mode yet',
    );
  }
  const { input } = options;
  if (input !== undefined && typeof input !== 'string' && !isStringArray(input)) {
    throw usageError(
      'in-memory input is not supported in cluster mode yet: write the records to a file on the shared file system and give its path',
    );
  }
  const out: ClusterRunOptions = {
    output: resolve(options.output),
    overwrite: options.overwrite,
    reducers: options.reducers,
    splitSize: options.splitSize,
    sortBuffer: options.sortBuffer,
    mergeFanIn: options.mergeFanIn,
    maxAttempts: options.maxAttempts,
    taskTimeout: options.taskTimeout,
    simulateFailures: options.simulateFailures,
    seed: options.seed,
    skipBadRecords: options.skipBadRecords,
    params: options.params,
    totalOrder: options.totalOrder,
    speculation: options.speculation,
  };
  if (input !== undefined)
    out.input = (typeof input === 'string' ? [input] : [...input]).map((p) => resolve(p));
  if (options.files !== undefined) out.files = options.files.map(absoluteSideFile);
  return out;
}

function isStringArray(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** `path[#name]` with the path made absolute (the name kept: `ctx.file(name)`). */
function absoluteSideFile(spec: string): string {
  const hash = spec.lastIndexOf('#');
  const [path, name] = hash < 0 ? [spec, undefined] : [spec.slice(0, hash), spec.slice(hash)];
  return isAbsolute(path) ? spec : `${resolve(path)}${name ?? ''}`;
}
