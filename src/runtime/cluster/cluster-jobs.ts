/**
 * The coordinator's jobs: a FIFO queue of submitted jobs, one running at a
 * time on every worker's slots, and the ended ones with their reports.
 *
 * A job runs exactly as `runJob` runs it locally ({@link executeJob}): the
 * coordinator imports the job from its uploaded bundle (against its own
 * tsmr, `bundle-import.ts`), resolves the user's options against it, plans
 * the splits on the shared file system, drives the scheduler, and commits the
 * output; only the executor differs (`cluster-executor.ts`). Running jobs one
 * at a time keeps each job's scheduler the only owner of the workers' slots;
 * the next job starts when the previous one has ended (Hadoop's FIFO
 * scheduler, without its overlap of a job's reduce tail with the next maps).
 *
 * A job without an output directory keeps its committed records outputs on
 * the workers that wrote them ({@link ClusterJobs.resultsOf}); the workers
 * are told to discard the job's files only when the client has read them
 * (`ReleaseResults`) or {@link RESULTS_TTL_MS} after the job's end.
 */
import { EventEmitter } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { JobReport, JobStart, ProgressSnapshot } from '../../engine/job-report.ts';
import { type AttemptHistoryEntry, schedulerDefaults } from '../../engine/scheduler-types.ts';
import { ErrorCode, isTsmrError, type SerializedError, serializeError, TsmrError } from '../../errors.ts';
import type { InputFile } from '../../io/input-paths.ts';
import type { Logger } from '../../observe/logger.ts';
import type { SegmentRef } from '../../shuffle/segment-reader.ts';
import type { SegmentInfo } from '../../shuffle/run-writer.ts';
import { resolveJob } from '../../task/load-job.ts';
import type { JobRef } from '../../task/messages.ts';
import { executeJob, JobHandle, newJobId } from '../run-job.ts';
import type { RunOptions } from '../run-options.ts';
import type { BundleCache } from './bundle-cache.ts';
import { installBundleResolution } from './bundle-import.ts';
import { type ClusterExecutor, createClusterExecutor, discardJobOnWorkers } from './cluster-executor.ts';
import type { UploadedInputs } from './coordinator-input.ts';
import type { ResultsAnswer } from './wire-records.ts';
import type { WireJobRef } from './wire-common.ts';
import type { JobSubmission } from './wire-job.ts';
import { type FailedAttempt, type JobState, type JobStatus, MAX_STATUS_FAILURES } from './wire-status.ts';
import type { WorkerEntry, WorkerRegistry } from './worker-registry.ts';

/** Most ended jobs remembered for status and `WatchJob` (oldest forgotten first). */
const MAX_ENDED_JOBS = 1000;
/** How long the results of a job without an output directory wait for their client by default, ms (10 min). */
export const RESULTS_TTL_MS = 10 * 60_000;

/** A committed records output of a succeeded job, on the worker incarnation that wrote it. */
interface HeldResult {
  attemptId: string;
  holder: WorkerEntry;
  segment: SegmentInfo;
}

export interface ClusterJobEvents {
  progress: [snapshot: ProgressSnapshot];
  started: [start: JobStart];
  attempt: [attempt: AttemptHistoryEntry];
  /** The job ended; its report, when it got as far as running tasks. */
  ended: [report: JobReport | undefined];
}

/** One submitted job. */
export class ClusterJob extends EventEmitter<ClusterJobEvents> {
  state: JobState = 'queued';
  name: string;
  /** What the job announced when its first task was about to start. */
  start: JobStart | undefined;
  /** Each attempt's latest entry, in order of first appearance (for watchers that come late). */
  readonly attempts = new Map<string, AttemptHistoryEntry>();
  progress: ProgressSnapshot | undefined;
  report: JobReport | undefined;
  error: SerializedError | undefined;
  executor: ClusterExecutor | undefined;
  /** In-memory input: the uploaded spool files, in order. */
  readonly input: InputFile[] | undefined;
  /** A succeeded job without an output directory: its results, until released or expired. */
  results: HeldResult[] | undefined;
  /** Why a job's results are gone (released, expired). */
  resultsGone: string | undefined;
  resultsTimer: NodeJS.Timeout | undefined;
  /** The latest failed attempts, oldest first (at most {@link MAX_STATUS_FAILURES}). */
  readonly failures: FailedAttempt[] = [];
  readonly abort = new AbortController();

  readonly jobId: string;
  readonly submission: JobSubmission;
  readonly submittedAt: number;

  constructor(jobId: string, submission: JobSubmission, submittedAt: number, input?: InputFile[]) {
    super();
    this.jobId = jobId;
    this.submission = submission;
    this.submittedAt = submittedAt;
    this.name = nameOf(submission.job);
    this.input = input;
  }

  /** The uploaded input files by base name (what `GET /input/<jobId>/<name>` serves). */
  inputFiles(): Map<string, InputFile> | undefined {
    return this.input && new Map(this.input.map((f) => [basename(f.path), f]));
  }

  get ended(): boolean {
    return this.state === 'succeeded' || this.state === 'failed' || this.state === 'cancelled';
  }

  status(): JobStatus {
    return {
      jobId: this.jobId,
      name: this.name,
      state: this.state,
      submittedAt: this.submittedAt,
      progress: this.progress,
      error: this.error,
      counters: this.report?.counters ?? {},
      failures: [...this.failures],
    };
  }
}

export interface ClusterJobsOptions {
  registry: WorkerRegistry;
  bundles: BundleCache;
  /** The coordinator's work directory: job scratch under `<workDir>/jobs`. */
  workDir: string;
  /** Uploaded in-memory input; a job's files are removed when it ends. */
  uploads: UploadedInputs;
  /** How long results wait for their client, ms (default {@link RESULTS_TTL_MS}). */
  resultsTtlMs?: number;
  log: Logger;
  /** Called with each job's handle as it starts running (the dashboard follows it). */
  onRun?: (handle: JobHandle) => void;
}

/** The job queue of a coordinator. */
export class ClusterJobs {
  readonly #opts: ClusterJobsOptions;
  readonly #jobs = new Map<string, ClusterJob>();
  readonly #bySubmission = new Map<string, ClusterJob>();
  readonly #queue: ClusterJob[] = [];
  #running: ClusterJob | undefined;
  #closed = false;
  /** Wakes a job waiting for its first worker. */
  readonly #workerJoined = new EventEmitter();

  constructor(opts: ClusterJobsOptions) {
    this.#opts = opts;
    installBundleResolution(opts.bundles.dir);
    opts.registry.on('joined', () => this.#workerJoined.emit('joined'));
  }

  /**
   * Queues a job. Idempotent per `submissionId`: a repeat gets the first one's job.
   * @param input the uploaded spool files of in-memory input (`UploadedInputs.files`).
   * @throws TsmrError `TSMR_USAGE` when its bundle was not uploaded, or the coordinator is shutting down.
   */
  submit(submission: JobSubmission, input?: InputFile[]): ClusterJob {
    const known = this.#bySubmission.get(submission.submissionId);
    if (known !== undefined) return known;
    if (this.#closed) throw new TsmrError(ErrorCode.USAGE, 'the coordinator is shutting down');
    const sha = 'bundleSha256' in submission.job ? submission.job.bundleSha256 : undefined;
    if (sha !== undefined && !this.#opts.bundles.has(sha)) {
      throw new TsmrError(ErrorCode.USAGE, `bundle ${sha} was not uploaded (UploadBundle first)`);
    }
    const job = new ClusterJob(newJobId(), submission, Date.now(), input);
    this.#jobs.set(job.jobId, job);
    this.#bySubmission.set(submission.submissionId, job);
    this.#queue.push(job);
    this.#forgetOldJobs();
    this.#opts.log.info({ jobId: job.jobId, name: job.name, queued: this.#queue.length }, 'job submitted');
    this.#runNext();
    return job;
  }

  /** True when a job was queued for `submissionId` (a repeated `SubmitJob`). */
  submitted(submissionId: string): boolean {
    return this.#bySubmission.has(submissionId);
  }

  get(jobId: string): ClusterJob | undefined {
    return this.#jobs.get(jobId);
  }

  /** Every job remembered, in submission order. */
  list(): ClusterJob[] {
    return [...this.#jobs.values()];
  }

  /** The job whose attempts a report names, if it is running. */
  running(jobId: string): ClusterJob | undefined {
    return this.#running?.jobId === jobId ? this.#running : undefined;
  }

  /** Cancels a queued or running job; an ended one is unchanged. */
  cancel(job: ClusterJob, reason: string): void {
    if (job.ended) return;
    const queued = this.#queue.indexOf(job);
    if (queued >= 0) {
      this.#queue.splice(queued, 1);
      this.#end(job, 'cancelled', undefined, cancelled(reason));
      return;
    }
    job.abort.abort(reason);
  }

  /**
   * Where the results of `job` are, or why they cannot be read (a worker
   * holding one was lost: `TSMR_WORKER_LOST` naming it).
   */
  resultsOf(job: ClusterJob): ResultsAnswer {
    const refuse = (code: ErrorCode, message: string, details = {}): ResultsAnswer => ({
      ok: false,
      error: serializeError(new TsmrError(code, message, { details: { jobId: job.jobId, ...details } })),
    });
    if (job.submission.options.output !== undefined) {
      return refuse(ErrorCode.USAGE, `job ${job.jobId} wrote its output to ${job.submission.options.output}`);
    }
    if (job.state !== 'succeeded')
      return refuse(ErrorCode.USAGE, `job ${job.jobId} has no results: it is ${job.state}`);
    if (job.results === undefined) {
      return refuse(
        ErrorCode.USAGE,
        `the results of job ${job.jobId} are gone: ${job.resultsGone ?? 'released'}`,
      );
    }
    const lost = job.results.find((r) => !r.holder.alive);
    if (lost !== undefined) {
      const workerId = lost.holder.id;
      return refuse(
        ErrorCode.WORKER_LOST,
        `the results of job ${job.jobId} are lost: worker ${workerId}, which held ${lost.attemptId}, ` +
          'was lost before they were read; run the job again',
        { workerId, attemptId: lost.attemptId },
      );
    }
    return {
      ok: true,
      segments: job.results.map((r) => ({
        attemptId: r.attemptId,
        workerId: r.holder.id,
        shuffleUrl: r.holder.registration.shuffleUrl,
        segment: r.segment,
      })),
    };
  }

  /** The client has read `job`'s results, or they expired: the workers delete the job's files. Idempotent. */
  releaseResults(job: ClusterJob, why: string): void {
    if (job.results === undefined) return;
    clearTimeout(job.resultsTimer);
    job.results = undefined;
    job.resultsGone = why;
    discardJobOnWorkers(this.#opts.registry, job.jobId);
    this.#opts.log.info({ jobId: job.jobId, why }, 'results released');
  }

  /** Cancels every job and resolves when the running one has ended. */
  async close(reason: string): Promise<void> {
    this.#closed = true;
    for (const job of this.#jobs.values()) this.releaseResults(job, `released: ${reason}`);
    for (const job of [...this.#queue]) this.cancel(job, reason);
    const running = this.#running;
    if (running === undefined) return;
    const ended = new Promise<void>((resolve) => running.once('ended', () => resolve()));
    this.cancel(running, reason);
    this.#workerJoined.emit('joined');
    await ended;
  }

  #runNext(): void {
    if (this.#running !== undefined || this.#closed) return;
    const job = this.#queue.shift();
    if (job === undefined) return;
    this.#running = job;
    job.state = 'running';
    void this.#run(job).finally(() => {
      this.#running = undefined;
      this.#runNext();
    });
  }

  async #run(job: ClusterJob): Promise<void> {
    const { registry, bundles, log } = this.#opts;
    const jobLog = log.child({ jobId: job.jobId });
    try {
      await this.#firstWorker(job);
      const ref = localRef(job.submission.job, bundles);
      const resolved = await resolveJob(ref, true);
      job.name = resolved.body.name;
      const scratchRoot = join(this.#opts.workDir, 'jobs');
      await mkdir(scratchRoot, { recursive: true });
      const { speculation, uploadedInput: _, ...given } = job.submission.options;
      // Uploaded input: in-memory input whose records are the uploaded spool files (`spooledInput`).
      const input = job.input && { input: { records: [] } };
      const options: RunOptions = { ...given, ...input, signal: job.abort.signal };
      const keepResults = given.output === undefined;
      const handle = new JobHandle((h) =>
        executeJob(h, resolved, options, {
          jobId: job.jobId,
          clusterSlots: registry.alive().reduce((n, w) => n + w.registration.slots, 0),
          speculation: speculation ?? true,
          maxWorkerFailures: schedulerDefaults.maxWorkerFailures,
          scratchRoot,
          log: jobLog,
          spooledInput: job.input,
          keepResults: keepResults ? (segments) => this.#keepResults(job, segments) : undefined,
          executor: () =>
            (job.executor = createClusterExecutor(registry, job.jobId, job.submission.job, {
              uploadedInput: job.input !== undefined,
              keepResults,
            })),
        }),
      );
      this.#opts.onRun?.(handle);
      handle.on('started', (start) => {
        job.start = start;
        job.emit('started', start);
      });
      handle.on('attempt', (a) => {
        job.attempts.set(a.attemptId, a);
        job.emit('attempt', a);
        if (a.status !== 'failed' || a.error === undefined) return;
        job.failures.push({
          attemptId: a.attemptId,
          worker: a.worker,
          failedAt: a.finishedAt ?? Date.now(),
          error: a.error,
        });
        if (job.failures.length > MAX_STATUS_FAILURES) job.failures.shift();
      });
      handle.on('progress', (snapshot) => {
        job.progress = snapshot;
        job.emit('progress', snapshot);
      });
      try {
        const report = await handle.done;
        this.#end(job, 'succeeded', report);
      } catch (error) {
        const report = handle.report;
        const state = isTsmrError(error) && error.code === ErrorCode.CANCELLED ? 'cancelled' : 'failed';
        this.#end(job, state, report, serializeError(error));
      }
    } catch (error) {
      const state = job.abort.signal.aborted ? 'cancelled' : 'failed';
      this.#end(job, state, undefined, serializeError(error));
    }
  }

  /** Holds the committed records outputs of `job` for its client, until released or {@link RESULTS_TTL_MS}. */
  #keepResults(job: ClusterJob, segments: SegmentRef[]): void {
    job.results = segments.map((s) => {
      const holder = job.executor?.resultHolder(s.source);
      if (holder === undefined) throw new TsmrError(ErrorCode.INTERNAL, `no worker reported ${s.source}`);
      const { length, records, crc32 } = s;
      return { attemptId: s.source, holder, segment: { offset: 0, length, records, crc32 } };
    });
    const ttl = this.#opts.resultsTtlMs ?? RESULTS_TTL_MS;
    job.resultsTimer = setTimeout(
      () => this.releaseResults(job, `expired: not read within ${Math.round(ttl / 1000)} s of the job's end`),
      ttl,
    );
    job.resultsTimer.unref();
  }

  /** Waits until a worker is registered (or the job is cancelled). */
  async #firstWorker(job: ClusterJob): Promise<void> {
    while (this.#opts.registry.alive().length === 0) {
      if (job.abort.signal.aborted) throw cancelled(String(job.abort.signal.reason));
      this.#opts.log.info({ jobId: job.jobId }, 'waiting for a worker to register');
      await new Promise<void>((resolve) => {
        const done = () => {
          this.#workerJoined.off('joined', done);
          job.abort.signal.removeEventListener('abort', done);
          resolve();
        };
        this.#workerJoined.on('joined', done);
        job.abort.signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  #end(
    job: ClusterJob,
    state: JobState,
    report: JobReport | undefined,
    error?: SerializedError | TsmrError,
  ): void {
    job.state = state;
    job.report = report;
    job.error = error instanceof TsmrError ? serializeError(error) : error;
    // A job without an output directory left its files on the workers; without results, nothing needs them.
    if (
      job.executor !== undefined &&
      job.submission.options.output === undefined &&
      job.results === undefined
    )
      discardJobOnWorkers(this.#opts.registry, job.jobId);
    job.executor = undefined;
    if (job.input !== undefined) {
      this.#opts.uploads.remove(job.submission.submissionId).catch((err: unknown) => {
        this.#opts.log.warn({ err, jobId: job.jobId }, 'cannot delete the uploaded input of an ended job');
      });
    }
    this.#opts.log.info({ jobId: job.jobId, state, error: job.error?.message }, 'job ended');
    job.emit('ended', report);
  }

  #forgetOldJobs(): void {
    const ended = [...this.#jobs.values()].filter((j) => j.ended);
    for (const job of ended.slice(0, Math.max(0, ended.length - MAX_ENDED_JOBS))) {
      this.#jobs.delete(job.jobId);
      this.#bySubmission.delete(job.submission.submissionId);
    }
  }
}

/** The job's code on this machine: a bundle's cached file, or streaming commands as they are. */
function localRef(job: WireJobRef, bundles: BundleCache): JobRef {
  switch (job.kind) {
    case 'streaming':
      return job;
    case 'module':
      return {
        kind: 'module',
        moduleUrl: pathToFileURL(bundles.path(job.bundleSha256)).href,
        exportName: job.exportName,
        step: job.step,
      };
    case 'defined':
      return {
        kind: 'defined',
        moduleUrl: pathToFileURL(bundles.path(job.bundleSha256)).href,
        index: job.index,
        fingerprint: job.fingerprint,
      };
  }
}

function nameOf(job: WireJobRef): string {
  return job.kind === 'streaming' ? 'streaming' : job.kind === 'module' ? job.exportName : `job ${job.index}`;
}

function cancelled(reason: string): TsmrError {
  return new TsmrError(ErrorCode.CANCELLED, `job cancelled: ${reason}`, { details: { reason } });
}
