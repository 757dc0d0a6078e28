/**
 * The job driver: feeds events to the scheduler and carries out its decisions
 * with an {@link AttemptExecutor}. The same driver serves local and cluster
 * mode; only the executor differs (DESIGN.md §3).
 */
import { rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import { join } from 'node:path';
import type { JobReport, PhaseName, PhaseReport, ProgressSnapshot } from '../engine/job-report.ts';
import { Scheduler, type Decision, type SchedulerEvent } from '../engine/scheduler.ts';
import { taskIdOf } from '../engine/scheduler-types.ts';
import { ErrorCode, isTsmrError, type SerializedError, serializeError, TsmrError } from '../errors.ts';
import { attemptDir, commitTask, discardAttempt } from '../io/committer.ts';
import type { Split } from '../io/splits.ts';
import type { MapOutput } from '../shuffle/map-output-collector.ts';
import type { SegmentRef } from '../shuffle/segment-reader.ts';
import { addCounters } from '../task/counters.ts';
import type { JobBody } from '../task/job-body.ts';
import type { JobRef, ReduceOutputSpec, TaskMessage, TaskProgress, TaskResult } from '../task/messages.ts';
import type { AttemptExecutor, RunningAttempt } from './executor.ts';
import { crashPoint } from './failure-injection.ts';
import type { JobSettings } from './settings.ts';

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

interface Live {
  msg: TaskMessage;
  running: RunningAttempt;
  progress: TaskProgress;
}

type Assign = Extract<Decision, { type: 'assign' }>;

const PROGRESS_INTERVAL_MS = 200;
const TICK_INTERVAL_MS = 1000;

export function partFileName(partition: number): string {
  return `part-r-${String(partition).padStart(5, '0')}`;
}

/** Runs the job to its end. Resolves with the result whether the job succeeded or failed. */
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
  const live = new Map<string, Live>();
  const results = new Map<string, TaskResult>();
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
  let failedAttempts = 0;
  let checksumsVerified = 0;
  /** Records in the committed map outputs (after combining): what the reduces must read. */
  let shuffledRecords = 0;

  return new Promise<DriverResult>((resolve) => {
    let finished = false;
    const progressTimer = setInterval(() => input.onProgress(snapshot()), PROGRESS_INTERVAL_MS);
    const tickTimer = setInterval(() => handle({ type: 'tick', now: Date.now() }), TICK_INTERVAL_MS);
    const onAbort = () => handle({ type: 'cancel', now: Date.now(), reason: 'the job was cancelled' });
    input.signal?.addEventListener('abort', onAbort, { once: true });

    function handle(event: SchedulerEvent): void {
      if (finished) return;
      for (const decision of scheduler.handle(event)) carryOut(decision);
    }

    function carryOut(decision: Decision): void {
      switch (decision.type) {
        case 'assign':
          start(decision);
          return;
        case 'kill':
          live.get(decision.attemptId)?.running.kill(decision.reason);
          return;
        case 'commit':
          void commit(decision.attemptId, decision.kind);
          return;
        case 'jobSucceeded':
          finish('succeeded');
          return;
        case 'jobFailed':
          finish(decision.error.code === ErrorCode.CANCELLED ? 'cancelled' : 'failed', decision.error);
          return;
      }
    }

    function start(a: Assign): void {
      const msg = message(a);
      const entry: Live = {
        msg,
        running: undefined as unknown as RunningAttempt,
        progress: { bytes: 0, records: 0 },
      };
      live.set(a.attemptId, entry);
      const p = phase[a.kind];
      p.start ??= Date.now();
      input.log.debug(
        { attemptId: a.attemptId, worker: a.workerId, speculative: a.speculative },
        'attempt started',
      );
      entry.running = executor.start(a.workerId, msg, (progress) => {
        entry.progress = progress;
        handle({
          type: 'progress',
          now: Date.now(),
          attemptId: a.attemptId,
          fraction: fractionOf(msg, progress),
        });
      });
      entry.running.result.then(
        (result) => {
          results.set(a.attemptId, result);
          handle({
            type: 'attemptSucceeded',
            now: Date.now(),
            attemptId: a.attemptId,
            output: result.mapOutput,
          });
        },
        (error: unknown) => {
          failedAttempts++;
          input.log.info({ attemptId: a.attemptId, err: error }, 'attempt failed');
          live.delete(a.attemptId);
          void cleanupAttempt(msg);
          const serialized = serializeError(error);
          const source = corruptSource(error);
          if (source !== undefined) {
            handle({ type: 'fetchFailed', now: Date.now(), mapTaskId: source, reduceAttemptId: a.attemptId });
          }
          handle({
            type: 'attemptFailed',
            now: Date.now(),
            attemptId: a.attemptId,
            error: serialized,
            retriable: !isUsageLike(error),
          });
        },
      );
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
      const result = results.get(attemptId);
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

    async function cleanupAttempt(msg: TaskMessage): Promise<void> {
      if (msg.kind === 'map') {
        await rm(msg.dir, { recursive: true, force: true });
      } else {
        await rm(msg.tmpDir, { recursive: true, force: true });
        if (input.output.kind === 'file') await discardAttempt(input.output.dir, msg.taskId, msg.attempt);
        else await rm(msg.output.dir, { recursive: true, force: true });
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
        failedAttempts,
      };
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

    function finish(status: JobReport['status'], error?: SerializedError): void {
      if (finished) return;
      finished = true;
      input.log.info({ status, failedAttempts, error }, 'job ended');
      clearInterval(progressTimer);
      clearInterval(tickTimer);
      input.signal?.removeEventListener('abort', onAbort);
      for (const { running } of live.values()) running.kill('the job ended');
      input.onProgress(snapshot());
      const finishedAt = Date.now();
      const history = scheduler.attempts();
      resolve({
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
        attempts: history,
        duplicateCompletions: scheduler.snapshot().stats.duplicateCompletions,
        outputRecords: counters['tsmr/REDUCE_OUTPUT_RECORDS'] ?? 0,
        validation: {
          shuffleRecordsMatch:
            status !== 'succeeded' || shuffledRecords === (counters['tsmr/REDUCE_INPUT_RECORDS'] ?? 0),
          checksumsVerified,
        },
        error,
        resultSegments: resultSegments.sort((a, b) => (a.source < b.source ? -1 : 1)),
      });
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

/** Errors that will fail every attempt the same way: fail the job at once. */
function isUsageLike(error: unknown): boolean {
  const e = isTsmrError(error) ? error : undefined;
  return e?.code === ErrorCode.BAD_JOB || e?.code === ErrorCode.JOB_NOT_IMPORTABLE;
}
