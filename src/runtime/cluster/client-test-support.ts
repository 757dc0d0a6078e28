/**
 * A scripted coordinator for the client tests: a real `createRpcServer` on
 * loopback with a `ClientService` that records what clients send and answers
 * as the test says (progress snapshots, then a succeeded or failed report, or
 * a wait for `CancelJob`).
 */
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import type { JobReport, PhaseProgress, ProgressSnapshot } from '../../engine/job-report.ts';
import type { SerializedError } from '../../errors.ts';
import { ClientService, JobState, WatchJobResponseSchema } from './gen/tsmr/cluster/v1/client_service_pb.js';
import { serviceLimits } from './rpc-limits.ts';
import { createRpcServer } from './rpc-server.ts';
import { memoryLogger, TEST_TOKEN } from './test-support.ts';
import { submissionFromWire, uploadFromWire } from './wire-job.ts';
import type { JobSubmission } from './wire-job.ts';
import { progressToWire } from './wire-progress.ts';
import { jobStates, reportToWire } from './wire-report.ts';
import { statusToWire } from './wire-status.ts';
import type { ClusterStatus } from './wire-status.ts';

export const STUB_JOB_ID = 'job-20250101-120000-abcdef';

export interface StubScript {
  /** Snapshots sent on `WatchJob` before the end. */
  progress?: ProgressSnapshot[];
  /** How the job ends: `succeeded`, `failed` (with `error`), or `cancelled` only once `CancelJob` comes. */
  outcome?: 'succeeded' | 'failed' | 'cancel';
  error?: SerializedError;
  /** What `GetStatus` answers. */
  status?: ClusterStatus;
  /** `SubmitJob` answers `UNAVAILABLE` this many times first (a lost answer). */
  submitFailures?: number;
}

export interface StubCoordinator {
  url: string;
  uploads: string[];
  /** Every `SubmitJob` call, retries included. */
  submissions: JobSubmission[];
  cancels: string[];
  shutdowns: string[];
  watches: number;
  close(): Promise<void>;
}

/** Starts the stub on 127.0.0.1 with {@link TEST_TOKEN}. */
export async function startStubCoordinator(script: StubScript = {}): Promise<StubCoordinator> {
  const uploads: string[] = [];
  const submissions: JobSubmission[] = [];
  const cancels: string[] = [];
  const shutdowns: string[] = [];
  let cancelled!: () => void;
  const cancel = new Promise<void>((resolve) => (cancelled = resolve));
  let failuresLeft = script.submitFailures ?? 0;
  const stub = {
    url: '',
    uploads,
    submissions,
    cancels,
    shutdowns,
    watches: 0,
    close: async () => {},
  };
  const server = createRpcServer({
    host: '127.0.0.1',
    port: 0,
    token: TEST_TOKEN,
    log: memoryLogger().log,
    routes: (router) =>
      router.service(
        ClientService,
        {
          uploadBundle(req) {
            uploads.push(uploadFromWire(req).sha256);
            return {};
          },
          submitJob(req) {
            const submission = submissionFromWire(req);
            submissions.push(submission);
            if (failuresLeft-- > 0) throw new ConnectError('answer lost', Code.Unavailable);
            return { jobId: STUB_JOB_ID };
          },
          getStatus: () => statusToWire(script.status ?? { jobs: [], workers: [] }),
          async *watchJob(req, ctx) {
            stub.watches++;
            if (req.jobId !== STUB_JOB_ID) throw new ConnectError(`no job ${req.jobId}`, Code.NotFound);
            for (const snapshot of script.progress ?? []) {
              yield create(WatchJobResponseSchema, {
                event: { case: 'progress', value: progressToWire(snapshot) },
              });
            }
            const outcome = script.outcome ?? 'succeeded';
            if (outcome === 'cancel') {
              await Promise.race([
                cancel,
                new Promise((resolve) => ctx.signal.addEventListener('abort', resolve)),
              ]);
            }
            const status = outcome === 'cancel' ? 'cancelled' : outcome;
            const error =
              status === 'cancelled'
                ? { name: 'TsmrError', code: 'TSMR_CANCELLED', message: `job ${STUB_JOB_ID} was cancelled` }
                : script.error;
            const report = stubReport(status, submissions.at(-1), error);
            yield create(WatchJobResponseSchema, { event: { case: 'report', value: reportToWire(report) } });
          },
          cancelJob(req) {
            cancels.push(req.jobId);
            cancelled();
            return { state: jobStates.toWire('cancelled') };
          },
          shutdown(req) {
            shutdowns.push(req.reason);
            return {};
          },
        },
        serviceLimits.client,
      ),
  });
  stub.url = (await server.listen()).url;
  stub.close = () => server.close();
  return stub;
}

/** A job state value for `CancelJobResponse` checks. */
export const CANCELLED_STATE = JobState.CANCELLED;

/** A progress snapshot of the stub job: `done` of 4 map tasks over 4000 bytes. */
export function stubSnapshot(done: number, now: number): ProgressSnapshot {
  const phase = (name: 'map' | 'reduce', tasksDone: number, started: boolean): PhaseProgress => ({
    phase: name,
    tasksTotal: 4,
    tasksDone,
    tasksRunning: started && tasksDone < 4 ? 1 : 0,
    bytesTotal: name === 'map' ? 4000 : 0,
    bytesDone: name === 'map' ? tasksDone * 1000 : 0,
    records: tasksDone * 10,
    ...(started ? { startedAt: 1000 } : {}),
    ...(started && tasksDone === 4 ? { finishedAt: now } : {}),
  });
  return {
    jobId: STUB_JOB_ID,
    now,
    startedAt: 1000,
    phases: { map: phase('map', done, true), reduce: phase('reduce', 0, false) },
    failedAttempts: 0,
    stalled: [],
    taskTimeoutMs: 600_000,
  };
}

function stubReport(
  status: JobReport['status'],
  submission: JobSubmission | undefined,
  error: SerializedError | undefined,
): JobReport {
  const phase = { tasks: 4, startedAt: 1000, finishedAt: 3000, durationMs: 2000, inputBytes: 4000 };
  return {
    jobId: STUB_JOB_ID,
    name: 'wordcount',
    status,
    startedAt: 1000,
    finishedAt: 5000,
    durationMs: 4000,
    settings: {
      inputs: submission?.options.input ?? [],
      output: submission?.options.output,
      workers: 3,
      reducers: submission?.options.reducers ?? 4,
      splitSize: 64 * 2 ** 20,
      sortBufferBytes: 64 * 2 ** 20,
      mergeFanIn: 64,
      maxAttempts: 4,
      taskTimeoutMs: 600_000,
      params: {},
    },
    phases: {
      map: { ...phase, inputRecords: 40, outputRecords: 80, throughputMBps: 0.002 },
      reduce: {
        ...phase,
        startedAt: 3000,
        finishedAt: 5000,
        inputRecords: 80,
        outputRecords: 7,
        throughputMBps: 0,
      },
    },
    counters: { 'tsmr/MAP_INPUT_RECORDS': 40 },
    attempts: [],
    workers: [],
    duplicateCompletions: 0,
    outputFiles: [],
    outputBytes: 0,
    outputRecords: status === 'succeeded' ? 7 : 0,
    peakRssBytes: 0,
    validation: { inputBytesMatch: true, shuffleRecordsMatch: true, checksumsVerified: 16 },
    error,
  };
}
