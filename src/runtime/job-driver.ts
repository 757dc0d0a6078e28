/**
 * The job driver: feeds events to the scheduler and carries out its decisions
 * with an {@link AttemptExecutor} and an {@link OutputCommitter}. The same
 * driver serves local and cluster mode; only the executor differs
 * (DESIGN.md §3).
 *
 * Events (attempt outcomes, progress, ticks, a cancel) are queued and handed to
 * the scheduler one at a time; each one's decisions are carried out, in order,
 * before the next. When the scheduler ends the job, `driveJob` still waits for
 * killed attempts to stop and for commits under way to settle, so that nothing
 * writes into the output or scratch directories after it resolved.
 *
 * What the driver keeps is small: the attempts it still cares about
 * ({@link LiveAttempts}), the totals of committed attempts
 * ({@link JobTotals}) and, in skip mode, the bad records of each map task
 * ({@link BadRecords}); everything about tasks and attempts is the scheduler's.
 */
import type { Logger } from 'pino';
import type { JobReport, ProgressSnapshot } from '../engine/job-report.ts';
import {
  type AttemptHistoryEntry,
  Scheduler,
  type Decision,
  type SchedulerEvent,
} from '../engine/scheduler.ts';
import { workerReports } from '../engine/worker-report.ts';
import { attemptIdOf, taskIdOf } from '../engine/scheduler-types.ts';
import { ErrorCode, isTsmrError, type SerializedError, serializeError, TsmrError } from '../errors.ts';
import type { OutputCommitter } from '../io/output-committer.ts';
import type { Split } from '../io/splits.ts';
import { failedMapOutputs } from '../task/fetch-stage.ts';
import type { JobBody } from '../task/job-body.ts';
import type {
  AttemptOutcome,
  JobRef,
  MapOutputIndex,
  MapOutputLocation,
  MapOutputSource,
  SideFile,
  TaskMessage,
  TaskProgress,
  TotalOrderSpec,
} from '../task/messages.ts';
import { BadRecords } from './bad-records.ts';
import type { AttemptExecutor } from './executor.ts';
import { crashPoint } from './failure-injection.ts';
import { JobTotals } from './job-totals.ts';
import { type LiveAttempt, LiveAttempts } from './live-attempts.ts';
import { finiteOrZero, type JobSettings } from './settings.ts';

export interface DriverInput {
  jobId: string;
  ref: JobRef | undefined;
  body: JobBody;
  splits: Split[];
  settings: JobSettings;
  /** Where reduce attempts write and how they commit. */
  committer: OutputCommitter;
  /** Total-order partitioning: the split points every map task gets. */
  totalOrder?: TotalOrderSpec;
  /** Side files every task gets (`ctx.file(name)`), if any. */
  files?: SideFile[];
  executor: AttemptExecutor;
  /** Speculative backup attempts for stragglers (default false; cluster mode: on unless turned off). */
  speculation?: boolean;
  /**
   * Failed attempts of this job on one worker before it gets no more of the
   * job's tasks (default `Infinity`: local mode's one worker is never
   * excluded; cluster mode: 3, see `SchedulerConfig.maxWorkerFailures`).
   */
  maxWorkerFailures?: number;
  onProgress(snapshot: ProgressSnapshot): void;
  /** Called when an attempt starts or changes state (ended, committed, lost…), after the event that did it. */
  onAttempt?(attempt: AttemptHistoryEntry): void;
  /** Structured log of the job (attempt starts, failures, commits at debug/info). */
  log: Logger;
  signal?: AbortSignal;
}

/** What the driver hands back: everything the report needs except output files. */
export type DriverResult = Omit<
  JobReport,
  'name' | 'settings' | 'outputFiles' | 'outputBytes' | 'peakRssBytes'
>;

/** What the scheduler keeps as a committed map attempt's output, and reduce attempts are told. */
interface MapOutputRef {
  mapAttemptId: string;
  location: MapOutputLocation;
  index: MapOutputIndex;
}

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

/**
 * Runs the job to its end. Resolves with the result whether the job succeeded
 * or failed, and only once nothing of it is under way any more: every killed
 * attempt has stopped, every commit has settled and every unwanted attempt's
 * files are deleted, so the caller may commit or abort the output.
 */
export function driveJob(input: DriverInput): Promise<DriverResult> {
  const { settings, splits, executor, committer } = input;
  const numMaps = splits.length;
  const numReduces = settings.reducers;
  const scheduler = new Scheduler({
    numMaps,
    numReduces,
    maxAttempts: settings.maxAttempts,
    taskTimeoutMs: settings.taskTimeoutMs,
    // The executor finds lost workers (heartbeats, closed sessions) and says so.
    heartbeatTimeoutMs: Number.POSITIVE_INFINITY,
    maxWorkerFailures: input.maxWorkerFailures ?? Number.POSITIVE_INFINITY,
    speculation: input.speculation ?? false,
  });
  const startedAt = Date.now();
  const live = new LiveAttempts();
  const totals = new JobTotals({ map: numMaps, reduce: numReduces });
  const badRecords = new BadRecords(settings.skipBadRecords);
  /** Map tasks whose skipped records are committed (a re-executed map keeps its first commit's). */
  const skipsCommitted = new Set<string>();
  /** Attempts, commits and file deletions under way: the job ends when all have settled. */
  const inFlight = new Set<Promise<unknown>>();
  /** Events waiting for the scheduler; handled one at a time, in order. */
  const queue: SchedulerEvent[] = [];
  let draining = false;
  const mapBytesTotal = splits.reduce((n, s) => n + s.length, 0);

  return new Promise<DriverResult>((resolve) => {
    let finished = false;
    const progressTimer = setInterval(() => input.onProgress(snapshot()), PROGRESS_INTERVAL_MS);
    const tickTimer = setInterval(() => handle({ type: 'tick', now: Date.now() }), TICK_INTERVAL_MS);
    const onAbort = () => handle({ type: 'cancel', now: Date.now(), reason: 'the job was cancelled' });
    input.signal?.addEventListener('abort', onAbort, { once: true });
    const unsubscribe = executor.subscribe?.((event) => {
      const now = Date.now();
      if (event.type === 'workerLost') input.log.warn({ worker: event.workerId, reason: event.reason }, 'worker lost');
      handle({ ...event, now });
    });
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
        for (const attempt of scheduler.changedAttempts()) input.onAttempt?.(attempt);
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
          kill(decision.attemptId, decision.reason);
          return;
        case 'discard':
          discard(decision.attemptId);
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
    function track(work: Promise<unknown>): Promise<unknown> {
      inFlight.add(work);
      const done = (): void => void inFlight.delete(work);
      work.then(done, done);
      return work;
    }

    /**
     * Kills a running attempt, which deletes its own files when it stops. The
     * job waits for it, but not forever: an attempt stuck in user code, or an
     * executor that never answers for a killed attempt, must not keep the job
     * from ending.
     */
    function kill(attemptId: string, reason: string): void {
      const a = live.take(attemptId);
      if (a === undefined) return;
      a.running.kill(reason);
      const handled = a.handled ?? a.running.outcome;
      inFlight.delete(handled);
      track(settledWithin(handled, KILL_GRACE_MS));
    }

    /** Deletes the output of a succeeded attempt that will not be committed. */
    function discard(attemptId: string): void {
      const a = live.take(attemptId);
      if (a !== undefined) track(deleteAttemptFiles(a.msg));
    }

    /** Deletes an attempt's scratch and, for a reduce, its uncommitted output; failures are logged. */
    async function deleteAttemptFiles(msg: TaskMessage): Promise<void> {
      const attemptId = attemptIdOf(msg.taskId, msg.attempt);
      await executor.discard(attemptId);
      if (writesOutput(msg)) {
        await committer.abortTask(msg.taskId, msg.attempt).catch((error: unknown) => {
          input.log.warn({ attemptId, err: error }, 'cannot delete attempt files');
        });
      }
    }

    function start(a: Extract<Decision, { type: 'assign' }>): void {
      const { attemptId } = a;
      const msg = message(a);
      totals.started(a.kind, Date.now());
      input.log.debug({ attemptId, worker: a.workerId, speculative: a.speculative }, 'attempt started');
      const running = executor.start(a.workerId, msg, (progress) => {
        const entry = live.get(attemptId);
        if (entry === undefined) return; // killed
        entry.progress = progress;
        entry.lastProgressAt = Date.now();
        const fraction = fractionOf(msg, progress);
        const { bytes, records } = progress;
        handle({ type: 'progress', now: Date.now(), attemptId, fraction, bytes, records });
      });
      const entry: LiveAttempt = {
        msg,
        workerId: a.workerId,
        running,
        progress: { bytes: 0, records: 0 },
        lastProgressAt: Date.now(),
      };
      live.add(attemptId, entry);
      entry.handled = track(running.outcome.then((outcome) => ended(msg, outcome)));
    }

    /** An attempt's outcome came: tell the scheduler. */
    async function ended(msg: TaskMessage, outcome: AttemptOutcome): Promise<void> {
      const attemptId = attemptIdOf(msg.taskId, msg.attempt);
      const entry = live.get(attemptId);
      if (outcome.ok) {
        if (entry === undefined) return deleteAttemptFiles(msg); // killed before its result came
        entry.result = outcome.result;
        entry.mapOutput = outcome.mapOutput;
        entry.progress = outcome.result.input; // its last progress report may still be on its way
        const { bytes, records } = entry.progress;
        handle({ type: 'progress', now: Date.now(), attemptId, fraction: 1, bytes, records });
        const output: MapOutputRef | undefined =
          outcome.mapOutput && outcome.result.mapOutput
            ? { mapAttemptId: attemptId, location: outcome.mapOutput, index: outcome.result.mapOutput }
            : undefined;
        const out = outcome.result.mapOutput ?? outcome.result.output;
        const written = out && { bytes: out.bytes, records: out.records };
        handle({ type: 'attemptSucceeded', now: Date.now(), attemptId, output, written });
        return;
      }
      live.take(attemptId);
      const { error, retriable } = outcome;
      if (entry === undefined) input.log.debug({ attemptId, err: error }, 'killed attempt stopped');
      else input.log.info({ attemptId, err: error }, 'attempt failed');
      for (const { mapTaskId, mapAttemptId } of failedMapOutputs(error)) {
        handle({ type: 'fetchFailed', now: Date.now(), mapTaskId, mapAttemptId, reduceAttemptId: attemptId });
      }
      // Skip mode: a map attempt that failed on a record is retried without it, uncounted.
      const verdict =
        msg.kind === 'map' && entry !== undefined ? badRecords.failed(msg.taskId, error) : undefined;
      if (verdict?.kind === 'skip') {
        input.log.info(
          { attemptId, file: verdict.record.file, offset: verdict.record.offset },
          'bad record skipped',
        );
        handle({ type: 'attemptFailed', now: Date.now(), attemptId, error, retriable: true, counted: false });
      } else if (verdict?.kind === 'tooMany') {
        handle({ type: 'attemptFailed', now: Date.now(), attemptId, error: verdict.error, retriable: false });
      } else {
        handle({ type: 'attemptFailed', now: Date.now(), attemptId, error, retriable });
      }
      if (writesOutput(msg)) await deleteAttemptFiles(msg);
    }

    function message({ kind, index, attempt, taskId }: Extract<Decision, { type: 'assign' }>): TaskMessage {
      const common = {
        jobId: input.jobId,
        taskId,
        attempt,
        job: input.ref ?? { kind: 'module' as const, moduleUrl: 'inline:', exportName: 'default' },
        params: settings.params,
        numReducers: numReduces,
        files: input.files?.length ? input.files : undefined,
        crashAt: crashPoint(settings.simulateFailures, settings.seed, taskId, attempt, settings.maxAttempts),
        mergeFanIn: settings.mergeFanIn,
      };
      if (kind === 'map') {
        const records = badRecords.forTask(taskId);
        const output = records?.length ? committer.skippedRecordsOutput(taskId, attempt) : undefined;
        return {
          ...common,
          kind,
          split: splits[index],
          inputFormat: input.body.inputs?.[splits[index]!.input ?? 0]?.inputFormat ?? input.body.inputFormat,
          sortBufferBytes: settings.sortBufferBytes,
          totalOrder: input.totalOrder,
          skip: records === undefined ? undefined : { records, output },
        };
      }
      return {
        ...common,
        kind,
        partition: index,
        sources: mapOutputSources(index),
        output: committer.taskOutput(taskId, attempt, index),
      };
    }

    /** Segment `partition` of every committed map output that has records in it, in map order. */
    function mapOutputSources(partition: number): MapOutputSource[] {
      const sources: MapOutputSource[] = [];
      for (let m = 0; m < numMaps; m++) {
        const mapTaskId = taskIdOf('map', m);
        const { mapAttemptId, location, index } = scheduler.mapOutput(mapTaskId) as MapOutputRef;
        const segment = index.partitions[partition];
        if (segment.records > 0) sources.push({ mapTaskId, mapAttemptId, segment, location });
      }
      return sources;
    }

    async function commit(attemptId: string, kind: 'map' | 'reduce'): Promise<void> {
      const entry = live.get(attemptId);
      const result = entry?.result;
      let committed = entry !== undefined && result !== undefined;
      if (committed && entry && result && writesOutput(entry.msg)) {
        const { taskId, attempt } = entry.msg;
        try {
          if (kind === 'map' && skipsCommitted.has(taskId)) {
            await committer.abortTask(taskId, attempt); // a re-executed map: its skipped records are in
          } else {
            committed = await committer.commitTask(taskId, attempt, result);
            if (committed && kind === 'map') skipsCommitted.add(taskId);
          }
        } catch (error) {
          // The attempt is `committing`, so an attemptFailed event would be ignored and the
          // task would wait for its commit forever: fail the job with the commit's error.
          input.log.info({ attemptId, err: error }, 'commit failed');
          live.take(attemptId);
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
      if (committed && entry && result)
        totals.commit(entry.msg.taskId, kind, entry.progress, result, Date.now());
      live.take(attemptId);
      handle({ type: 'commitDone', now: Date.now(), attemptId, committed });
    }

    function snapshot(): ProgressSnapshot {
      const now = Date.now();
      const running = live.runningTotals();
      const reduceBytesTotal = totals.shuffleBytes();
      const view = (name: 'map' | 'reduce', tasksTotal: number, bytesTotal: number) => ({
        phase: name,
        tasksTotal,
        tasksDone: totals.done(name),
        tasksRunning: running[name].attempts,
        bytesTotal,
        bytesDone: Math.min(bytesTotal, totals.bytes(name) + running[name].bytes),
        records: totals.records(name) + running[name].records,
        startedAt: totals.startedAt(name),
        finishedAt: totals.finishedAt(name),
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
        stalled: live.stalled(now, Math.min(STALL_NOTICE_MS, settings.taskTimeoutMs / 2)),
        taskTimeoutMs: finiteOrZero(settings.taskTimeoutMs),
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
      unsubscribe?.();
      for (const attemptId of live.runningIds()) kill(attemptId, 'the job ended');
      void settled().then(() => {
        // Left: successes never committed; their files go with the job's scratch and aborted output.
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
      const counters = totals.counters();
      const succeeded = status === 'succeeded';
      const attempts = scheduler.attempts();
      return {
        jobId: input.jobId,
        status,
        startedAt,
        finishedAt,
        durationMs: finishedAt - startedAt,
        phases: {
          map: totals.phaseReport('map', mapBytesTotal, counters, finishedAt),
          reduce: totals.phaseReport('reduce', totals.shuffleBytes(), counters, finishedAt),
        },
        counters,
        attempts,
        workers: workerReports(executor.workers, attempts, finishedAt),
        duplicateCompletions: scheduler.stats().duplicateCompletions,
        outputRecords: counters['tsmr/REDUCE_OUTPUT_RECORDS'] ?? 0,
        skippedRecords: badRecords.report(),
        validation: {
          inputBytesMatch: !succeeded || (counters['tsmr/MAP_INPUT_BYTES'] ?? 0) === mapBytesTotal,
          shuffleRecordsMatch:
            !succeeded || totals.shuffleRecords() === (counters['tsmr/REDUCE_INPUT_RECORDS'] ?? 0),
          checksumsVerified: totals.checksumsVerified(),
        },
        error,
      };
    }

    for (const worker of executor.workers) {
      handle({ type: 'workerJoined', now: Date.now(), workerId: worker.id, slots: worker.slots });
    }
  });
}

/** Whether an attempt writes into the output (a reduce; a map that writes skipped records), to commit or abort. */
function writesOutput(msg: TaskMessage): boolean {
  return msg.kind === 'reduce' || msg.skip?.output !== undefined;
}

function fractionOf(msg: TaskMessage, p: TaskProgress): number {
  if (msg.kind === 'map') return msg.split.length === 0 ? 1 : Math.min(1, p.bytes / msg.split.length);
  const total = msg.sources.reduce((n, s) => n + s.segment.records, 0);
  return total === 0 ? 1 : Math.min(1, p.records / total);
}
