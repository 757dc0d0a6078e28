/**
 * The job driver: feeds events to the scheduler and carries out its decisions
 * with an {@link AttemptExecutor}. The same driver serves local and cluster
 * mode; only the executor differs (DESIGN.md §3).
 *
 * Events (attempt outcomes, progress, ticks, a cancel) are queued and handed to
 * the scheduler one at a time; each one's decisions are carried out, in order,
 * before the next. When the scheduler ends the job, `driveJob` still waits for
 * killed attempts to stop and for commits under way to settle, so that nothing
 * writes into the output or scratch directories after it resolved.
 */
import { rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import { join } from 'node:path';
import type {
  JobReport,
  PhaseName,
  PhaseReport,
  ProgressSnapshot,
  StalledAttempt,
} from '../engine/job-report.ts';
import { Scheduler, type Decision, type SchedulerEvent } from '../engine/scheduler.ts';
import { taskIdOf } from '../engine/scheduler-types.ts';
import {
  ErrorCode,
  isRetriable,
  isTsmrError,
  type SerializedError,
  serializeError,
  TsmrError,
} from '../errors.ts';
import { attemptDir, commitTask, discardAttempt } from '../io/committer.ts';
import type { Split } from '../io/splits.ts';
import type { MapOutput } from '../shuffle/map-output-collector.ts';
import type { SegmentRef } from '../shuffle/segment-reader.ts';
import { addCounters } from '../task/counters.ts';
import type { JobBody } from '../task/job-body.ts';
import type { JobRef, ReduceOutputSpec, TaskMessage, TaskProgress, TaskResult } from '../task/messages.ts';
import type { AttemptExecutor, RunningAttempt } from './executor.ts';
import { crashPoint } from './failure-injection.ts';
import { finiteOrZero, type JobSettings } from './settings.ts';

export interface DriverInput {
  jobId: string;
  ref: JobRef | undefined;
  body: JobBody;
  splits: Split[];
  settings: JobSettings;
  /** Scratch directory of this job (map outputs, merge runs). */
  workDir: string;
  /** Where reduce attempts write: an output directory with a committer, or a results directory. */
  output: { kind: 'file'; dir: string } | { kind: 'records'; dir: string };
  executor: AttemptExecutor;
  onProgress(snapshot: ProgressSnapshot): void;
  /** Structured log of the job (attempt starts, failures, commits at debug/info). */
  log: Logger;
  signal?: AbortSignal;
}

/** What the driver hands back: everything the report needs except output files. */
export type DriverResult = Omit<
  JobReport,
  'name' | 'settings' | 'outputFiles' | 'outputBytes' | 'peakRssBytes'
> & {
  /** Records mode: the committed reduce outputs, to merge back in key order. */
  resultSegments: SegmentRef[];
};

/** An attempt the driver still cares about: running, or succeeded and waiting for its commit. */
interface Live {
  msg: TaskMessage;
  running: RunningAttempt;
  progress: TaskProgress;
  /** Worker it runs on. */
  workerId: string;
  /** Epoch ms of its last progress report (or its start). */
  lastProgressAt: number;
  /** Set when the attempt succeeded; it then waits for (or is in) its commit. */
  result?: TaskResult;
  /** Handling of the attempt's outcome, tracked until it settles. */
  outcome: Promise<unknown>;
}

type Assign = Extract<Decision, { type: 'assign' }>;

const PROGRESS_INTERVAL_MS = 200;
const TICK_INTERVAL_MS = 1000;
/** How long the driver waits for a killed attempt to stop before it ends the job without it. */
const KILL_GRACE_MS = 1000;
/** A running attempt is shown as stalled after this long without progress (or half the task timeout, if shorter). */
const STALL_NOTICE_MS = 10_000;

/** Resolves when `work` settles or `ms` have passed, whichever comes first. */
function settledWithin(work: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    work.then(done, done);
  });
}

export function partFileName(partition: number): string {
  return `part-r-${String(partition).padStart(5, '0')}`;
}

/**
 * Runs the job to its end. Resolves with the result whether the job succeeded
 * or failed, and only once nothing of it is under way any more: every killed
 * attempt has stopped, every commit has settled and every attempt's files are
 * deleted, so the caller may commit or abort the output and delete `workDir`.
 */
export function driveJob(input: DriverInput): Promise<DriverResult> {
  const { settings, splits, executor } = input;
  const numMaps = splits.length;
  const numReduces = settings.reducers;
  const scheduler = new Scheduler({
    numMaps,
    numReduces,
    maxAttempts: settings.maxAttempts,
    taskTimeoutMs: settings.taskTimeoutMs,
    heartbeatTimeoutMs: Number.POSITIVE_INFINITY,
    speculation: false,
  });
  const startedAt = Date.now();
  /** By attempt id; an attempt leaves when it fails, is committed, or is killed or ignored. */
  const live = new Map<string, Live>();
  /** Attempts, commits and file deletions under way: the job ends when all have settled. */
  const inFlight = new Set<Promise<unknown>>();
  /** Events waiting for the scheduler; handled one at a time, in order. */
  const queue: SchedulerEvent[] = [];
  let draining = false;
  const counters: Record<string, number> = {};
  /** The committed attempt of each task, as counted in the totals. */
  const committedBy = new Map<string, { progress: TaskProgress; result: TaskResult }>();
  const resultSegments: SegmentRef[] = [];
  const phase: Record<
    PhaseName,
    { done: number; bytes: number; records: number; start?: number; end?: number }
  > = {
    map: { done: 0, bytes: 0, records: 0 },
    reduce: { done: 0, bytes: 0, records: 0 },
  };
  const mapBytesTotal = splits.reduce((n, s) => n + s.length, 0);
  let reduceBytesTotal = 0;
  let checksumsVerified = 0;
  /** Records in the committed map outputs (after combining): what the reduces must read. */
  let shuffledRecords = 0;

  return new Promise<DriverResult>((resolve) => {
    let finished = false;
    const progressTimer = setInterval(() => input.onProgress(snapshot()), PROGRESS_INTERVAL_MS);
    const tickTimer = setInterval(() => handle({ type: 'tick', now: Date.now() }), TICK_INTERVAL_MS);
    const onAbort = () => handle({ type: 'cancel', now: Date.now(), reason: 'the job was cancelled' });
    input.signal?.addEventListener('abort', onAbort, { once: true });
    // Cancelled before it started (a signal during planning): the first event cancels it.
    if (input.signal?.aborted) queueMicrotask(onAbort);

    /**
     * Queues `event` for the scheduler. Events are handled one at a time, in
     * order, each one's decisions carried out before the next event is handed
     * over (a map commit answers `commitDone` while its decision is carried out).
     */
    function handle(event: SchedulerEvent): void {
      if (finished) return;
      queue.push(event);
      if (draining) return;
      draining = true;
      try {
        for (let next = queue.shift(); next !== undefined && !finished; next = queue.shift()) {
          for (const decision of scheduler.handle(next)) carryOut(decision);
        }
      } finally {
        draining = false;
      }
    }

    function carryOut(decision: Decision): void {
      switch (decision.type) {
        case 'assign':
          start(decision);
          return;
        case 'kill':
          forget(decision.attemptId, decision.reason);
          return;
        case 'discard':
          forget(decision.attemptId, 'its output will not be committed');
          return;
        case 'commit':
          track(commit(decision.attemptId, decision.kind));
          return;
        case 'jobSucceeded':
          finish('succeeded');
          return;
        case 'jobFailed':
          finish(decision.error.code === ErrorCode.CANCELLED ? 'cancelled' : 'failed', decision.error);
          return;
      }
    }

    /** Remembers work under way (an attempt, a commit, a deletion): the job ends only after it settled. */
    function track(work: Promise<unknown>): void {
      inFlight.add(work);
      const done = (): void => void inFlight.delete(work);
      work.then(done, done);
    }

    /**
     * Stops caring about an attempt (killed, or its success will never be
     * committed): a running one is killed, and deletes its files when it stops;
     * a succeeded one's files are deleted now.
     */
    function forget(attemptId: string, reason: string): void {
      const entry = live.get(attemptId);
      if (entry === undefined) return;
      live.delete(attemptId);
      if (entry.result !== undefined) {
        track(cleanupAttempt(entry.msg));
        return;
      }
      entry.running.kill(reason);
      // Wait for it to stop, but not forever: an attempt stuck in user code, or
      // an executor that never answers for a killed attempt, must not keep the
      // job from ending. It cleans up its files whenever it does stop.
      inFlight.delete(entry.outcome);
      track(settledWithin(entry.outcome, KILL_GRACE_MS));
    }

    function start(a: Assign): void {
      const { attemptId } = a;
      const msg = message(a);
      const p = phase[a.kind];
      p.start ??= Date.now();
      input.log.debug({ attemptId, worker: a.workerId, speculative: a.speculative }, 'attempt started');
      const running = executor.start(a.workerId, msg, (progress) => {
        const entry = live.get(attemptId);
        if (entry === undefined) return; // killed
        entry.progress = progress;
        entry.lastProgressAt = Date.now();
        handle({ type: 'progress', now: Date.now(), attemptId, fraction: fractionOf(msg, progress) });
      });
      const outcome = running.result.then(
        (result) => {
          const entry = live.get(attemptId);
          if (entry !== undefined) entry.result = result;
          handle({ type: 'attemptSucceeded', now: Date.now(), attemptId, output: result.mapOutput });
          // Killed before its result came: the output is not wanted.
          return entry === undefined ? cleanupAttempt(msg) : undefined;
        },
        (error: unknown) => {
          const killed = !live.delete(attemptId);
          if (killed) input.log.debug({ attemptId, err: error }, 'killed attempt stopped');
          else input.log.info({ attemptId, err: error }, 'attempt failed');
          const source = corruptSource(error);
          if (source !== undefined) {
            handle({ type: 'fetchFailed', now: Date.now(), mapTaskId: source, reduceAttemptId: attemptId });
          }
          handle({
            type: 'attemptFailed',
            now: Date.now(),
            attemptId,
            error: serializeError(error),
            retriable: isRetriable(error),
          });
          return cleanupAttempt(msg);
        },
      );
      live.set(attemptId, {
        msg,
        running,
        progress: { bytes: 0, records: 0 },
        workerId: a.workerId,
        lastProgressAt: Date.now(),
        outcome,
      });
      track(outcome);
    }

    function message({ kind, index, attempt, taskId, attemptId }: Assign): TaskMessage {
      const common = {
        jobId: input.jobId,
        taskId,
        attempt,
        job: input.ref ?? { kind: 'module' as const, moduleUrl: 'inline:', exportName: 'default' },
        params: settings.params,
        numReducers: numReduces,
        crashAt: crashPoint(settings.simulateFailures, settings.seed, taskId, attempt, settings.maxAttempts),
        mergeFanIn: settings.mergeFanIn,
      };
      if (kind === 'map') {
        return {
          ...common,
          kind,
          split: splits[index],
          inputFormat: input.body.inputFormat,
          sortBufferBytes: settings.sortBufferBytes,
          dir: join(input.workDir, 'map', attemptId),
        };
      }
      const segments = reduceSegments(index);
      const fileName = partFileName(index);
      const output: ReduceOutputSpec =
        input.output.kind === 'file'
          ? {
              kind: 'file',
              dir: attemptDir(input.output.dir, taskId, attempt),
              fileName,
              format: input.body.outputFormat,
            }
          : { kind: 'records', dir: join(input.workDir, 'attempts', attemptId), fileName };
      return {
        ...common,
        kind,
        partition: index,
        segments,
        tmpDir: join(input.workDir, 'merge', attemptId),
        output,
      };
    }

    function reduceSegments(partition: number): SegmentRef[] {
      const segments: SegmentRef[] = [];
      for (let m = 0; m < numMaps; m++) {
        const out = scheduler.mapOutput(taskIdOf('map', m)) as MapOutput;
        const s = out.partitions[partition];
        if (s.records > 0) {
          segments.push({
            path: out.dataPath,
            offset: s.offset,
            length: s.length,
            records: s.records,
            crc32: s.crc32,
            source: taskIdOf('map', m),
          });
        }
      }
      return segments;
    }

    async function commit(attemptId: string, kind: 'map' | 'reduce'): Promise<void> {
      const entry = live.get(attemptId);
      const result = entry?.result;
      let committed = entry !== undefined && result !== undefined;
      if (committed && kind === 'reduce' && entry && result) {
        try {
          committed = await commitReduce(entry.msg, result);
        } catch (error) {
          // The attempt is `committing`, so an attemptFailed event would be ignored and the
          // task would wait for its commit forever: fail the job with the commit's error.
          input.log.info({ attemptId, err: error }, 'commit failed');
          live.delete(attemptId);
          finish(
            'failed',
            serializeError(
              new TsmrError(
                isTsmrError(error) ? error.code : ErrorCode.IO,
                `commit of ${attemptId} failed: ${(error as Error)?.message ?? String(error)}`,
                { cause: error, details: { taskId: entry.msg.taskId, attempt: entry.msg.attempt } },
              ),
            ),
          );
          return;
        }
      }
      if (committed && entry && result) {
        // A map task re-executed after its output was lost commits again: its new
        // attempt replaces the old one in the totals (counters sum committed attempts only).
        const previous = committedBy.get(entry.msg.taskId);
        if (previous !== undefined) account(kind, previous.progress, previous.result, -1);
        else phase[kind].done++;
        committedBy.set(entry.msg.taskId, { progress: entry.progress, result });
        account(kind, entry.progress, result, 1);
        const p = phase[kind];
        if (p.done === (kind === 'map' ? numMaps : numReduces)) p.end = Date.now();
      }
      live.delete(attemptId);
      handle({ type: 'commitDone', now: Date.now(), attemptId, committed });
    }

    function account(kind: PhaseName, progress: TaskProgress, result: TaskResult, sign: 1 | -1): void {
      const p = phase[kind];
      p.bytes += sign * progress.bytes;
      p.records += sign * progress.records;
      addCounters(
        counters,
        sign === 1
          ? result.counters
          : Object.fromEntries(Object.entries(result.counters).map(([k, v]) => [k, -v])),
      );
      if (kind === 'reduce') checksumsVerified += sign * (result.checksumsVerified ?? 0);
      if (kind === 'map') {
        for (const s of result.mapOutput?.partitions ?? []) {
          reduceBytesTotal += sign * s.length;
          shuffledRecords += sign * s.records;
        }
      }
    }

    async function commitReduce(msg: TaskMessage, result: TaskResult): Promise<boolean> {
      if (input.output.kind === 'file') return commitTask(input.output.dir, msg.taskId, msg.attempt);
      const segment = result.output?.segment;
      const path = result.output?.files[0];
      if (segment !== undefined && path !== undefined && segment.records > 0) {
        resultSegments.push({ path, ...segment, source: msg.taskId });
      }
      return true;
    }

    /** Deletes the files of an attempt that will not be committed; a failure to do so is logged. */
    async function cleanupAttempt(msg: TaskMessage): Promise<void> {
      try {
        if (msg.kind === 'map') {
          await rm(msg.dir, { recursive: true, force: true });
        } else {
          await rm(msg.tmpDir, { recursive: true, force: true });
          if (input.output.kind === 'file') await discardAttempt(input.output.dir, msg.taskId, msg.attempt);
          else await rm(msg.output.dir, { recursive: true, force: true });
        }
      } catch (error) {
        input.log.warn(
          { attemptId: `${msg.taskId}_${msg.attempt}`, err: error },
          'cannot delete attempt files',
        );
      }
    }

    function snapshot(): ProgressSnapshot {
      const now = Date.now();
      const running = { map: { n: 0, bytes: 0, records: 0 }, reduce: { n: 0, bytes: 0, records: 0 } };
      for (const { msg, progress } of live.values()) {
        const r = running[msg.kind];
        r.n++;
        r.bytes += progress.bytes;
        r.records += progress.records;
      }
      const view = (name: PhaseName, tasksTotal: number, bytesTotal: number) => ({
        phase: name,
        tasksTotal,
        tasksDone: phase[name].done,
        tasksRunning: running[name].n,
        bytesTotal,
        bytesDone: Math.min(bytesTotal, phase[name].bytes + running[name].bytes),
        records: phase[name].records + running[name].records,
        startedAt: phase[name].start,
        finishedAt: phase[name].end,
      });
      return {
        jobId: input.jobId,
        now,
        startedAt,
        phases: {
          map: view('map', numMaps, mapBytesTotal),
          reduce: view('reduce', numReduces, reduceBytesTotal),
        },
        failedAttempts: scheduler.stats().failedAttempts,
        stalled: stalledAttempts(now),
        taskTimeoutMs: finiteOrZero(settings.taskTimeoutMs),
      };
    }

    function stalledAttempts(now: number): StalledAttempt[] {
      const after = Math.min(STALL_NOTICE_MS, settings.taskTimeoutMs / 2);
      const stalled: StalledAttempt[] = [];
      for (const [attemptId, entry] of live) {
        const idleMs = now - entry.lastProgressAt;
        if (entry.result === undefined && idleMs >= after) {
          stalled.push({ attemptId, worker: entry.workerId, idleMs });
        }
      }
      return stalled.sort((a, b) => b.idleMs - a.idleMs);
    }

    function phaseReport(name: PhaseName, tasks: number, inputBytes: number): PhaseReport | undefined {
      const p = phase[name];
      if (p.start === undefined) return undefined;
      const end = p.end ?? Date.now();
      const durationMs = end - p.start;
      const isMap = name === 'map';
      return {
        tasks,
        startedAt: p.start,
        finishedAt: end,
        durationMs,
        inputBytes,
        inputRecords: counters[isMap ? 'tsmr/MAP_INPUT_RECORDS' : 'tsmr/REDUCE_INPUT_RECORDS'] ?? 0,
        outputRecords: counters[isMap ? 'tsmr/MAP_OUTPUT_RECORDS' : 'tsmr/REDUCE_OUTPUT_RECORDS'] ?? 0,
        throughputMBps: durationMs > 0 ? inputBytes / 1e6 / (durationMs / 1000) : 0,
      };
    }

    /** Ends the job: kills what still runs, then resolves once everything under way has settled. */
    function finish(status: JobReport['status'], error?: SerializedError): void {
      if (finished) return;
      finished = true;
      queue.length = 0;
      clearInterval(progressTimer);
      clearInterval(tickTimer);
      input.signal?.removeEventListener('abort', onAbort);
      for (const [attemptId, entry] of live) {
        if (entry.result === undefined) forget(attemptId, 'the job ended');
      }
      void settled().then(() => {
        // Left: successes never committed; their files go with the scratch and _temporary dirs.
        live.clear();
        input.onProgress(snapshot());
        const { failedAttempts, killedAttempts } = scheduler.stats();
        input.log.info({ status, failedAttempts, killedAttempts, error }, 'job ended');
        resolve(result(status, error));
      });
    }

    /** Resolves when no attempt, commit or file deletion is under way. */
    async function settled(): Promise<void> {
      if (inFlight.size > 0) {
        input.log.debug({ pending: inFlight.size }, 'waiting for killed attempts and commits to settle');
      }
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    }

    function result(status: JobReport['status'], error?: SerializedError): DriverResult {
      const finishedAt = Date.now();
      return {
        jobId: input.jobId,
        status,
        startedAt,
        finishedAt,
        durationMs: finishedAt - startedAt,
        phases: {
          map: phaseReport('map', numMaps, mapBytesTotal),
          reduce: phaseReport('reduce', numReduces, reduceBytesTotal),
        },
        counters,
        attempts: scheduler.attempts(),
        duplicateCompletions: scheduler.stats().duplicateCompletions,
        outputRecords: counters['tsmr/REDUCE_OUTPUT_RECORDS'] ?? 0,
        validation: {
          inputBytesMatch:
            status !== 'succeeded' || (counters['tsmr/MAP_INPUT_BYTES'] ?? 0) === mapBytesTotal,
          shuffleRecordsMatch:
            status !== 'succeeded' || shuffledRecords === (counters['tsmr/REDUCE_INPUT_RECORDS'] ?? 0),
          checksumsVerified,
        },
        error,
        resultSegments: resultSegments.sort((a, b) => (a.source < b.source ? -1 : 1)),
      };
    }

    for (const worker of executor.workers) {
      handle({ type: 'workerJoined', now: Date.now(), workerId: worker.id, slots: worker.slots });
    }
  });
}

function fractionOf(msg: TaskMessage, p: TaskProgress): number {
  if (msg.kind === 'map') return msg.split.length === 0 ? 1 : Math.min(1, p.bytes / msg.split.length);
  const total = msg.segments.reduce((n, s) => n + s.records, 0);
  return total === 0 ? 1 : Math.min(1, p.records / total);
}

/** The map task whose output a reduce attempt found corrupt, if that is why it failed. */
function corruptSource(error: unknown): string | undefined {
  if (isTsmrError(error) && error.code === ErrorCode.CORRUPT_DATA) {
    const source = error.details.source;
    return typeof source === 'string' && source.startsWith('m-') ? source : undefined;
  }
  return undefined;
}
