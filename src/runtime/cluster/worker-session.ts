/**
 * One incarnation of a cluster worker (`worker_service.proto`, "Life of a
 * worker"): from a `Register` answer to the moment the coordinator stops
 * believing it, the worker
 *
 * - holds its `Session` open and obeys its commands (kill, drain, discard job,
 *   reregister);
 * - sends a `Heartbeat` every `heartbeat_interval_ms` with its running
 *   attempts and their progress, the map outputs it holds and the shuffle
 *   bytes served, and applies the answer's kills and discards (each repeated
 *   until done, so applying them is idempotent);
 * - long-polls `AcquireTasks` while it has free slots (`poll_seq` grows by
 *   one per new poll and stays the same on a retry, so that a lost answer
 *   loses no lease) and starts each lease;
 * - reports each attempt's end (`ReportOutcome`) and each map output a reduce
 *   attempt could not read (`ReportFetchFailure`), retried on transport errors.
 *
 * The incarnation ends ({@link Incarnation.ended}) when an answer says
 * `reregister` (fenced: the coordinator declared it dead), the session is
 * told to reregister or is lost (the coordinator takes the session's end for
 * the worker's), a drain has finished, the worker closes, or a call is
 * refused for good (`UNAUTHENTICATED`). The worker then stops its attempts
 * ({@link Incarnation.stop}) and, for a reregister, registers anew.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from '@connectrpc/connect';
import { Code, ConnectError } from '@connectrpc/connect';
import { serializeError } from '../../errors.ts';
import type { TsmrError } from '../../errors.ts';
import type { Logger } from '../../observe/logger.ts';
import type { WorkerService } from './gen/tsmr/cluster/v1/worker_service_pb.js';
import {
  MAX_POLL_WAIT_MS,
  heartbeatAnswerFromWire,
  leasesFromWire,
  sessionCommandFromWire,
} from './wire-worker.ts';
import type { Registered, SessionCommand } from './wire-worker.ts';
import { errorToWire } from './wire-common.ts';
import { outcomeToWire } from './wire-result.ts';
import type { AttemptReports, WorkerAttempts } from './worker-attempts.ts';
import type { MapOutputRegistry } from './worker-map-outputs.ts';
import { isTransient, rpcError, withRetries } from './worker-rpc.ts';

/** Why an incarnation ended. */
export type IncarnationEnd =
  /** Fenced or its session lost: register again. */
  | { kind: 'reregister'; reason: string }
  /** The coordinator drained the worker: it stops. */
  | { kind: 'drained'; reason: string }
  /** The worker was closed. */
  | { kind: 'closed'; reason: string }
  /** A call was refused for good: the worker stops with this error. */
  | { kind: 'failed'; error: TsmrError };

/** What an incarnation needs of its worker. */
export interface IncarnationEnv {
  client: Client<typeof WorkerService>;
  coordinator: string;
  workerId: string;
  attempts: WorkerAttempts;
  outputs: MapOutputRegistry;
  /** Shuffle bytes served since the worker started. */
  bytesServed(): number;
  /** Applies a job's end: its attempts killed, its map outputs and scratch deleted. Idempotent. */
  discardJob(jobId: string): Promise<void>;
  /** Longest wait of one `AcquireTasks` poll, ms (at most 60 000). */
  pollWaitMs: number;
  log: Logger;
}

/** Extra deadline of a long poll beyond its `wait_ms`. */
const POLL_MARGIN_MS = 10_000;

export class Incarnation {
  readonly number: number;
  readonly ended: Promise<IncarnationEnd>;
  /** Where this incarnation's attempts report. */
  readonly reports: AttemptReports;
  private finish!: (end: IncarnationEnd) => void;
  /** Aborted when the incarnation ends: its calls and loops stop. */
  private readonly stopped = new AbortController();
  /** Aborted when a drain starts (or the incarnation ends): no more polls. */
  private readonly noMoreLeases = new AbortController();
  private readonly log: Logger;
  private readonly loops: Array<Promise<void>>;
  private readonly servedAtStart: number;

  private readonly env: IncarnationEnv;

  constructor(env: IncarnationEnv, registered: Registered) {
    this.env = env;
    this.number = registered.incarnation;
    this.log = env.log.child({ incarnation: this.number });
    this.servedAtStart = env.bytesServed();
    this.ended = new Promise((resolve) => (this.finish = resolve));
    this.stopped.signal.addEventListener('abort', () => this.noMoreLeases.abort(), { once: true });
    this.reports = {
      signal: this.stopped.signal,
      outcome: (ref, outcome) =>
        this.call(`ReportOutcome ${ref.attemptId}`, (signal) =>
          env.client.reportOutcome({ ...this.ref(), ...ref, outcome: outcomeToWire(outcome) }, { signal }),
        ).then((answer) => this.fenced(answer.reregister, `ReportOutcome ${ref.attemptId}`)),
      fetchFailure: (ref, source, error) => {
        this.log.warn(
          { jobId: ref.jobId, attemptId: ref.attemptId, mapAttemptId: source.mapAttemptId, err: error },
          'map output could not be fetched',
        );
        const request = {
          ...this.ref(),
          jobId: ref.jobId,
          reduceAttemptId: ref.attemptId,
          mapTaskId: source.mapTaskId,
          mapAttemptId: source.mapAttemptId,
          error: errorToWire(serializeError(error)),
        };
        const what = `ReportFetchFailure ${ref.attemptId} ${source.mapAttemptId}`;
        this.call(what, (signal) => env.client.reportFetchFailure(request, { signal })).then(
          (answer) => this.fenced(answer.reregister, what),
          (err: unknown) => this.callFailed(err, what),
        );
      },
    };
    this.loops = [
      this.session(),
      this.heartbeats(registered.heartbeatIntervalMs, registered.heartbeatTimeoutMs),
      this.leases(),
    ];
  }

  /** Ends the incarnation (the first end counts). */
  end(end: IncarnationEnd): void {
    if (this.stopped.signal.aborted) return;
    this.finish(end);
    this.stopped.abort();
  }

  /** After {@link ended}: stops its attempts and waits for its loops, so nothing of it runs on. */
  async stop(reason: string): Promise<void> {
    await this.env.attempts.killAll(reason);
    await Promise.all(this.loops);
  }

  private ref() {
    return { workerId: this.env.workerId, incarnation: BigInt(this.number) };
  }

  /** A call retried on transport errors until answered or the incarnation ends. */
  private call<T>(what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return withRetries(fn, { signal: this.stopped.signal, log: this.log, what });
  }

  private fenced(reregister: boolean, what: string): void {
    if (reregister) this.end({ kind: 'reregister', reason: `${what} was answered reregister` });
  }

  /** A call failed for good: an `UNAUTHENTICATED` ends the worker; others are logged. */
  private callFailed(err: unknown, what: string): void {
    if (this.stopped.signal.aborted) return;
    if (ConnectError.from(err).code === Code.Unauthenticated) {
      this.end({ kind: 'failed', error: rpcError(err, this.env.coordinator, what) });
    } else {
      this.log.error({ err }, `${what} failed`);
    }
  }

  private async session(): Promise<void> {
    const { signal } = this.stopped;
    try {
      for await (const m of this.env.client.session(this.ref(), { signal, timeoutMs: 0 })) {
        this.obey(sessionCommandFromWire(m));
        if (signal.aborted) return;
      }
      this.sessionLost('the coordinator ended the session');
    } catch (err) {
      if (signal.aborted) return;
      if (ConnectError.from(err).code === Code.Unauthenticated) return this.callFailed(err, 'Session');
      this.sessionLost(`the session failed: ${(err as Error).message}`);
    }
  }

  /** The coordinator took the session's end for this incarnation's loss: register again, unless draining. */
  private sessionLost(reason: string): void {
    if (this.noMoreLeases.signal.aborted) this.end({ kind: 'drained', reason: `${reason} while draining` });
    else this.end({ kind: 'reregister', reason });
  }

  private obey(c: SessionCommand): void {
    this.log.debug({ command: c }, 'session command');
    switch (c.type) {
      case 'attached':
        this.log.info('session attached');
        return;
      case 'kill':
        this.env.attempts.kill(c, c.reason);
        return;
      case 'drain':
        this.drain(c.reason);
        return;
      case 'discardJob':
        void this.env.discardJob(c.jobId);
        return;
      case 'reregister':
        this.end({ kind: 'reregister', reason: c.reason });
    }
  }

  /** No more leases; the running attempts finish and are reported; then the incarnation ends. */
  private drain(reason: string): void {
    if (this.noMoreLeases.signal.aborted) return;
    this.log.info({ reason }, 'draining');
    this.noMoreLeases.abort();
    void this.env.attempts.idle().then(() => this.end({ kind: 'drained', reason }));
  }

  private async heartbeats(intervalMs: number, timeoutMs: number): Promise<void> {
    const { signal } = this.stopped;
    while (!signal.aborted) {
      await this.beat(timeoutMs).catch((err: unknown) => {
        if (signal.aborted) return;
        if (isTransient(err)) this.log.warn({ err }, 'heartbeat failed');
        else this.callFailed(err, 'Heartbeat');
      });
      await delay(intervalMs, undefined, { signal }).catch(() => {});
    }
  }

  private async beat(timeoutMs: number): Promise<void> {
    const { env } = this;
    const answer = heartbeatAnswerFromWire(
      await env.client.heartbeat(
        {
          ...this.ref(),
          running: env.attempts.running().map((r) => ({
            jobId: r.jobId,
            attemptId: r.attemptId,
            bytes: BigInt(Math.round(r.bytes)),
            records: BigInt(Math.round(r.records)),
          })),
          mapOutputs: env.outputs.held(),
          shuffleBytesServed: BigInt(env.bytesServed() - this.servedAtStart),
        },
        { signal: this.stopped.signal, timeoutMs },
      ),
    );
    if (answer.reregister) return this.fenced(true, 'Heartbeat');
    for (const k of answer.kill) env.attempts.kill(k, k.reason);
    for (const jobId of answer.discardJobs) await env.discardJob(jobId);
  }

  private async leases(): Promise<void> {
    const { env } = this;
    const signal = this.noMoreLeases.signal;
    const waitMs = Math.min(env.pollWaitMs, MAX_POLL_WAIT_MS);
    for (let pollSeq = 1; !signal.aborted; pollSeq++) {
      try {
        await env.attempts.whenSlotFree(signal);
        const request = {
          ...this.ref(),
          freeSlots: env.attempts.slots - env.attempts.busy,
          waitMs,
          pollSeq: BigInt(pollSeq),
        };
        const answer = await withRetries(
          (s) => env.client.acquireTasks(request, { signal: s, timeoutMs: waitMs + POLL_MARGIN_MS }),
          { signal, log: this.log, what: 'AcquireTasks' },
        );
        const { reregister, leases } = leasesFromWire(answer);
        if (reregister) return this.fenced(true, 'AcquireTasks');
        for (const lease of leases) env.attempts.start(lease, this.reports);
      } catch (err) {
        if (signal.aborted) return;
        // Transport errors were retried: a ConnectError here is a refusal, which polling again would repeat.
        if (err instanceof ConnectError) {
          return this.end({ kind: 'failed', error: rpcError(err, env.coordinator, 'AcquireTasks') });
        }
        // A lease this worker cannot read (TSMR_BAD_MESSAGE): the coordinator learns from the
        // heartbeats that it does not run here; polling goes on.
        this.log.error({ err }, 'AcquireTasks answer refused');
      }
    }
  }
}
