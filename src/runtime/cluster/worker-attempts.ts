/**
 * The attempts a cluster worker runs, one per slot: each lease becomes a task
 * message for the task runner and runs on a thread of the worker's pool
 * (`onThreadPool` of the local executor, with `worker-thread.ts` as entry), in
 * a scratch directory of its own, `<workDir>/jobs/<jobId>/attempts/<attemptId>/`.
 *
 * Before it runs, an attempt gets what its message names by hash or by
 * worker: its job bundle (`worker-bundles.ts`), and, for a reduce attempt,
 * its sources, which become files this worker can read (DESIGN.md §4 step 3):
 * a map output held here is read where it is; the others are copied from
 * their workers' shuffle servers into `<scratch>/fetch/` (`shuffle-fetcher.ts`:
 * 5 at once, CRC-checked, retried with backoff), each one given up on is
 * reported at once (`ReportFetchFailure`), and the attempt then fails with
 * `details.failedMapOutputs` naming them. The reduce itself then reads local
 * files only (`fetch-stage.ts`).
 *
 * A succeeded map attempt's output stays in its scratch directory and is
 * added to the registry the shuffle server serves, before its success is
 * reported. A failed or killed attempt's directory is deleted. Every end is
 * reported (`AttemptReports.outcome`), a killed one too (the coordinator
 * ignores it).
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { attemptIdOf } from '../../engine/scheduler-types.ts';
import { ErrorCode, isRetriable, serializeError, TsmrError } from '../../errors.ts';
import type { Logger } from '../../observe/logger.ts';
import { mapOutputPath } from '../../task/map-task.ts';
import type { Split } from '../../io/splits.ts';
import type {
  AttemptOutcome,
  MapOutputSource,
  MapTaskMessage,
  ReduceTaskMessage,
  TaskMessage,
  TaskProgress,
  TaskResult,
} from '../../task/messages.ts';
import { killed } from '../../task/abortable-body.ts';
import type { AttemptRunner } from '../local/local-executor.ts';
import { fetchSegments } from './shuffle-fetcher.ts';
import { localUploadedSplit } from './worker-input.ts';
import type { FetchSegmentsOptions, ShuffleSource } from './shuffle-fetcher.ts';
import type { TaskSpec } from './wire-task.ts';
import type { AttemptRef } from './wire-worker.ts';
import type { WorkerBundles } from './worker-bundles.ts';
import type { MapOutputRegistry } from './worker-map-outputs.ts';
import type { WorkerMetrics } from './worker-metrics.ts';

/** Fetcher settings a worker may change (tests shorten the backoff). */
export type FetchTuning = Pick<FetchSegmentsOptions, 'parallel' | 'retries' | 'backoff' | 'timeoutMs'>;

/** What attempts need of their worker. */
export interface AttemptEnv {
  workerId: string;
  workDir: string;
  runner: AttemptRunner;
  bundles: WorkerBundles;
  outputs: MapOutputRegistry;
  /** The shuffle key of a job (`deriveJobKey`). */
  jobKey(jobId: string): Uint8Array;
  /** CA of `https:` shuffle servers (and of the coordinator). */
  ca?: string;
  /** The coordinator's base URL and the cluster token (uploaded input is copied from there). */
  coordinator: string;
  token: string | undefined;
  fetch?: FetchTuning;
  metrics: WorkerMetrics;
  log: Logger;
}

/** Where an attempt reports: the incarnation that leased it. */
export interface AttemptReports {
  /** Aborted when that incarnation ends: its attempts' reports are no longer sent. */
  readonly signal: AbortSignal;
  outcome(ref: AttemptRef, outcome: AttemptOutcome): Promise<void>;
  /** A map output a reduce attempt could not read (sent at once, in the background). */
  fetchFailure(
    ref: AttemptRef,
    source: Pick<MapOutputSource, 'mapTaskId' | 'mapAttemptId'>,
    error: TsmrError,
  ): void;
}

/** `<workDir>/jobs/<jobId>`: everything the worker keeps for one job. */
export function jobDir(workDir: string, jobId: string): string {
  return join(workDir, 'jobs', jobId);
}

/** `<workDir>/jobs/<jobId>/input`: copies of the job's uploaded input (`worker-input.ts`). */
function uploadedInputDir(workDir: string, jobId: string): string {
  return join(jobDir(workDir, jobId), 'input');
}

interface Entry extends AttemptRef {
  progress: TaskProgress;
  /** The attempt has ended; its report may still be on its way. */
  finished: boolean;
  abort: AbortController;
  done: Promise<void>;
}

export class WorkerAttempts {
  /** By `<jobId>/<attemptId>`; an entry holds its slot until its outcome is reported. */
  private readonly entries = new Map<string, Entry>();
  private waiters: Array<() => void> = [];

  private readonly env: AttemptEnv;
  readonly slots: number;

  constructor(env: AttemptEnv, slots: number) {
    this.env = env;
    this.slots = slots;
  }

  /** Slots held now. */
  get busy(): number {
    return this.entries.size;
  }

  /** The attempts running now (not those ended and being reported), with their progress. */
  running(): Array<AttemptRef & TaskProgress> {
    return [...this.entries.values()]
      .filter((e) => !e.finished)
      .map((e) => ({ jobId: e.jobId, attemptId: e.attemptId, ...e.progress }));
  }

  /** Starts a leased attempt; a lease of an attempt already here is ignored (logged). */
  start(spec: TaskSpec, reports: AttemptReports): void {
    const attemptId = attemptIdOf(spec.taskId, spec.attempt);
    const key = `${spec.jobId}/${attemptId}`;
    if (this.entries.has(key)) {
      this.env.log.warn({ jobId: spec.jobId, attemptId }, 'lease of an attempt already running here ignored');
      return;
    }
    const entry: Entry = {
      jobId: spec.jobId,
      attemptId,
      progress: { bytes: 0, records: 0 },
      finished: false,
      abort: new AbortController(),
      done: Promise.resolve(),
    };
    this.entries.set(key, entry);
    entry.done = this.run(spec, entry, reports).finally(() => {
      this.entries.delete(key);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** Stops an attempt; false when it is not running here (a repeated kill). */
  kill(ref: AttemptRef, reason: string): boolean {
    const entry = this.entries.get(`${ref.jobId}/${ref.attemptId}`);
    if (entry === undefined || entry.finished || entry.abort.signal.aborted) return false;
    this.env.log.info({ ...ref, reason }, 'killing attempt');
    entry.abort.abort(reason);
    return true;
  }

  /** Stops the attempts of one job. */
  killJob(jobId: string, reason: string): void {
    for (const e of this.entries.values()) if (e.jobId === jobId) this.kill(e, reason);
  }

  /** Stops every attempt and resolves once each has ended (and was reported, if its incarnation lives). */
  async killAll(reason: string): Promise<void> {
    for (const e of this.entries.values()) this.kill(e, reason);
    await this.idle();
  }

  /** Resolves when no attempt is here. */
  async idle(): Promise<void> {
    while (this.entries.size > 0) await Promise.all([...this.entries.values()].map((e) => e.done));
  }

  /** Resolves when a slot is free, or rejects when `signal` aborts. */
  async whenSlotFree(signal: AbortSignal): Promise<void> {
    while (this.entries.size >= this.slots) {
      signal.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        this.waiters.push(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
  }

  private async run(spec: TaskSpec, entry: Entry, reports: AttemptReports): Promise<void> {
    const { jobId } = spec;
    const log = this.env.log.child({
      jobId,
      taskId: spec.taskId,
      attempt: spec.attempt,
      attemptId: entry.attemptId,
    });
    log.info('attempt started');
    const outcome = await this.execute(spec, entry, reports, log);
    entry.finished = true;
    this.env.metrics.attemptEnded(spec.kind, outcome.ok);
    if (outcome.ok) log.info({ input: outcome.result.input }, 'attempt succeeded');
    else log.warn({ err: outcome.error }, 'attempt failed');
    if (reports.signal.aborted) return;
    await reports.outcome(entry, outcome).catch((err: unknown) => {
      if (!reports.signal.aborted) log.error({ err }, 'attempt outcome not reported');
    });
  }

  private async execute(
    spec: TaskSpec,
    entry: Entry,
    reports: AttemptReports,
    log: Logger,
  ): Promise<AttemptOutcome> {
    const { signal } = entry.abort;
    const dir = join(jobDir(this.env.workDir, spec.jobId), 'attempts', entry.attemptId);
    /** Uploaded input: each copy's path here → the file's path on the coordinator. */
    const copies = new Map<string, string>();
    try {
      const { uploadedInput, ...task } = spec.kind === 'map' ? spec : { ...spec, uploadedInput: false };
      let msg: TaskMessage = { ...task, job: await untilAborted(this.env.bundles.jobRef(spec.job), signal) };
      if (msg.kind === 'reduce') msg = { ...msg, sources: await this.localSources(msg, dir, entry, reports) };
      if (msg.kind === 'map' && uploadedInput === true) {
        const given = msg;
        const split = await this.uploadedSplit(given, signal);
        split.parts.forEach((p, i) => copies.set(p.path, given.split.parts[i]!.path));
        msg = { ...given, split, skip: given.skip && skipInCopies(given.skip, copies) };
      }
      signal.throwIfAborted();
      const result = await this.onThread(msg, dir, entry);
      signal.throwIfAborted();
      // A map of a map-only job (R = 0) writes its part file, as a reduce does.
      if (msg.kind === 'map' && msg.output === undefined)
        this.addMapOutput(spec.jobId, entry.attemptId, dir, result, log);
      else this.addResults(spec.jobId, entry.attemptId, result, log);
      return { ok: true, result };
    } catch (error) {
      await rm(dir, { recursive: true, force: true, maxRetries: 3 }).catch(() => {});
      const outcome = this.failure(signal.aborted ? killed(spec, String(signal.reason)) : error);
      // A bad record of uploaded input is named by the coordinator's path, which every worker's attempt skips.
      const file = outcome.ok ? undefined : outcome.error.details?.file;
      if (!outcome.ok && typeof file === 'string' && copies.has(file))
        outcome.error.details = { ...outcome.error.details, file: copies.get(file) };
      return outcome;
    }
  }

  private async onThread(msg: TaskMessage, dir: string, entry: Entry): Promise<TaskResult> {
    const { signal } = entry.abort;
    const { result, kill } = this.env.runner.start(msg, dir, (p) => (entry.progress = p));
    const onAbort = () => kill(String(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await result;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  private addMapOutput(jobId: string, attemptId: string, dir: string, result: TaskResult, log: Logger): void {
    const index = result.mapOutput;
    if (index === undefined)
      throw new TsmrError(ErrorCode.INTERNAL, `map attempt ${attemptId} left no output`);
    this.env.outputs.add(jobId, attemptId, {
      dataPath: mapOutputPath(dir, attemptId),
      partitions: index.partitions,
    });
    log.debug({ bytes: index.bytes, records: index.records }, 'map output held');
  }

  /** The split of a map attempt of uploaded input, as copies on this worker (`worker-input.ts`). */
  private uploadedSplit(msg: MapTaskMessage, signal: AbortSignal): Promise<Split> {
    const { coordinator, token, ca, workDir } = this.env;
    const dir = uploadedInputDir(workDir, msg.jobId);
    return localUploadedSplit(msg.split, { coordinator, token, ca, jobId: msg.jobId, dir, signal });
  }

  /**
   * A reduce attempt (or a map attempt of a map-only job) of a job without an
   * output directory wrote its records file (`result.output.segment`): it is
   * served like a map output, as
   * partition 0 of the attempt's id, until the coordinator discards the job
   * (after the client has read the results).
   */
  private addResults(jobId: string, attemptId: string, result: TaskResult, log: Logger): void {
    const segment = result.output?.segment;
    const path = result.output?.files[0];
    if (segment === undefined || path === undefined) return;
    this.env.outputs.add(jobId, attemptId, { dataPath: path, partitions: [segment] });
    log.debug({ bytes: segment.length, records: segment.records }, 'results held');
  }

  /**
   * The sources of a reduce attempt as files this worker reads: its own map
   * outputs where they are, the others fetched into `<dir>/fetch/`.
   * @throws TsmrError with `details.failedMapOutputs` (see the module doc).
   */
  private async localSources(
    msg: ReduceTaskMessage,
    dir: string,
    entry: Entry,
    reports: AttemptReports,
  ): Promise<MapOutputSource[]> {
    const { workerId, outputs } = this.env;
    const here = (s: MapOutputSource) => s.location.kind === 'worker' && s.location.workerId === workerId;
    const lost = msg.sources.filter((s) => here(s) && outputs.get(msg.jobId, s.mapAttemptId) === undefined);
    if (lost.length > 0) throw this.lostHere(msg, lost, entry, reports);

    const remote = msg.sources.filter((s) => s.location.kind === 'worker' && !here(s));
    const fetchDir = join(dir, 'fetch');
    await mkdir(fetchDir, { recursive: true });
    const fetched = await fetchSegments(
      remote.map((s) => shuffleSource(msg, s)),
      {
        ...this.env.fetch,
        jobKey: this.env.jobKey(msg.jobId),
        dir: fetchDir,
        signal: entry.abort.signal,
        ca: this.env.ca,
        onFetchFailure: (source, error) => {
          if (error.code === ErrorCode.AUTH) return;
          this.env.metrics.fetchFailed();
          reports.fetchFailure(entry, source, error);
        },
      },
    );
    let next = 0;
    return msg.sources.map((s): MapOutputSource => {
      if (s.location.kind === 'local') return s;
      if (here(s)) {
        const held = outputs.get(msg.jobId, s.mapAttemptId);
        return { ...s, location: { kind: 'local', path: held!.dataPath } };
      }
      const ref = fetched[next++];
      return { ...s, segment: { ...s.segment, offset: 0 }, location: { kind: 'local', path: ref.path } };
    });
  }

  /** A reduce attempt names map outputs as on this worker that it no longer holds: each is a fetch failure. */
  private lostHere(
    msg: ReduceTaskMessage,
    lost: MapOutputSource[],
    entry: Entry,
    reports: AttemptReports,
  ): TsmrError {
    const failedMapOutputs = lost.map(({ mapTaskId, mapAttemptId }) => {
      const reason = `worker ${this.env.workerId} does not hold map output ${mapAttemptId} of job ${msg.jobId}`;
      this.env.metrics.fetchFailed();
      reports.fetchFailure(entry, { mapTaskId, mapAttemptId }, new TsmrError(ErrorCode.IO, reason));
      return { mapTaskId, mapAttemptId, partition: msg.partition, code: ErrorCode.IO, reason };
    });
    return new TsmrError(
      ErrorCode.IO,
      `${failedMapOutputs[0].reason}` +
        (lost.length > 1 ? ` (and ${lost.length - 1} more)` : '') +
        ' (lost when an earlier incarnation of the worker ended)',
      { details: { jobId: msg.jobId, failedMapOutputs } },
    );
  }

  /**
   * A failure outcome naming this worker (`details.workerId`, and the message
   * but for a kill). A file-system error (`TSMR_IO`: an input this worker
   * cannot open, its disk full) is retriable on a cluster even when it would
   * not be locally: another worker may see the shared file system whole
   * (Hadoop retries such attempts on other nodes); a worker that keeps
   * failing a job's attempts is excluded from it by the scheduler.
   */
  private failure(error: unknown): AttemptOutcome {
    const serialized = serializeError(error);
    serialized.details = { ...serialized.details, workerId: this.env.workerId };
    if (serialized.code === ErrorCode.IO && serialized.details.file !== undefined) {
      serialized.message +=
        ` (on worker ${this.env.workerId}; every worker must see the job's inputs and output ` +
        'at the same paths, on a shared file system)';
    } else if (serialized.code !== ErrorCode.CANCELLED) {
      serialized.message += ` (on worker ${this.env.workerId})`;
    }
    return {
      ok: false,
      error: serialized,
      retriable: isRetriable(error) || serialized.code === ErrorCode.IO,
    };
  }
}

function shuffleSource(msg: ReduceTaskMessage, s: MapOutputSource): ShuffleSource {
  if (s.location.kind !== 'worker') throw new TsmrError(ErrorCode.INTERNAL, 'not a source on a worker');
  return {
    url: s.location.shuffleUrl,
    jobId: msg.jobId,
    mapTaskId: s.mapTaskId,
    mapAttemptId: s.mapAttemptId,
    partition: msg.partition,
    length: s.segment.length,
    records: s.segment.records,
    crc32: s.segment.crc32,
  };
}

/**
 * Skip mode over uploaded input: the bad records name the coordinator's
 * files (as the failures reported them); the attempt reads this worker's
 * copies (`copies`: copy → coordinator's path), so they are named so here.
 */
function skipInCopies(
  skip: NonNullable<MapTaskMessage['skip']>,
  copies: ReadonlyMap<string, string>,
): NonNullable<MapTaskMessage['skip']> {
  const copyOf = new Map([...copies].map(([copy, original]) => [original, copy]));
  return { ...skip, records: skip.records.map((r) => ({ ...r, file: copyOf.get(r.file) ?? r.file })) };
}

/** `p`, or a rejection with the signal's reason as soon as it aborts. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
