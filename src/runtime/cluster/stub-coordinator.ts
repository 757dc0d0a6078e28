/**
 * A stub coordinator for the worker's tests (test support, not used by the
 * runtime): a real RPC server (`createRpcServer`, loopback, the test token)
 * serving a `WorkerService` that hands out the leases a test scripts and
 * records what workers report. It keeps one current incarnation per worker
 * and answers calls of any other with `reregister`, as the contract says; a
 * test fences a worker with {@link StubCoordinator.fence}.
 */
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import type { HandlerContext } from '@connectrpc/connect';
import type { AttemptOutcome } from '../../task/messages.ts';
import {
  AcquireTasksResponseSchema,
  SessionResponseSchema,
  WorkerService,
} from './gen/tsmr/cluster/v1/worker_service_pb.js';
import type { AcquireTasksResponse, SessionResponse } from './gen/tsmr/cluster/v1/worker_service_pb.js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { serviceLimits } from './rpc-limits.ts';
import { createRpcServer } from './rpc-server.ts';
import { TEST_TOKEN, memoryLogger } from './test-support.ts';
import { taskSpecToWire } from './wire-task.ts';
import type { TaskSpec } from './wire-task.ts';
import {
  bundleHashFromWire,
  fetchFailureFromWire,
  heartbeatFromWire,
  outcomeReportFromWire,
  registrationFromWire,
  sessionRequestFromWire,
  taskPollFromWire,
} from './wire-worker.ts';
import type { FetchFailureReport, Heartbeat, WorkerRegistration } from './wire-worker.ts';

type Command = MessageInitShape<typeof SessionResponseSchema>['command'];

/** A report of an attempt's end, as received. */
export interface ReceivedOutcome {
  workerId: string;
  incarnation: number;
  jobId: string;
  attemptId: string;
  outcome: AttemptOutcome;
}

interface SessionState {
  workerId: string;
  incarnation: number;
  queue: Command[];
  wake?: () => void;
  ended: boolean;
}

export interface StubCoordinatorOptions {
  /** Answer every `Register` with `FAILED_PRECONDITION` and this message. */
  refuse?: string;
  /** `heartbeat_interval_ms` of the `Register` answer (default 100). */
  heartbeatIntervalMs?: number;
  /** The server's token (default `TEST_TOKEN`). */
  token?: string;
  /** Serve HTTPS with this certificate and key. */
  tls?: { cert: string; key: string };
}

export interface StubCoordinator {
  url: string;
  registrations: WorkerRegistration[];
  heartbeats: Heartbeat[];
  outcomes: ReceivedOutcome[];
  fetchFailures: FetchFailureReport[];
  /** Sessions opened, in order. */
  sessions: Array<{ workerId: string; incarnation: number; ended: boolean }>;
  /** Polls received: worker, incarnation, free slots, poll_seq. */
  polls: Array<{ workerId: string; incarnation: number; freeSlots: number; pollSeq: number }>;
  /** Bundles `GetBundle` serves, by SHA-256. */
  bundles: Map<string, Uint8Array>;
  /** Number of `GetBundle` calls. */
  bundleGets: number;
  /** The current incarnation of a worker (0: none). */
  incarnation(workerId: string): number;
  /** Queues a lease for a worker's next poll. */
  lease(workerId: string, spec: TaskSpec): void;
  /** Pushes a command on the worker's current session. */
  send(workerId: string, command: Command): void;
  /** Adds kills and discards to the worker's next heartbeat answer. */
  onNextHeartbeat(
    workerId: string,
    answer: { kill?: Array<{ jobId: string; attemptId: string }>; discardJobs?: string[] },
  ): void;
  /** Declares the worker's current incarnation dead: its calls are answered `reregister` (its session is left open). */
  fence(workerId: string): void;
  /** Resolves when `predicate()` holds (checked at each received call), or rejects after `ms`. */
  until(predicate: () => boolean, what: string, ms?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startStubCoordinator(options: StubCoordinatorOptions = {}): Promise<StubCoordinator> {
  const current = new Map<string, number>();
  let nextIncarnation = 0;
  const leases = new Map<string, TaskSpec[]>();
  const pollWakers = new Map<string, () => void>();
  const lastPoll = new Map<string, { seq: number; answer: AcquireTasksResponse }>();
  const nextHeartbeat = new Map<
    string,
    { kill?: Array<{ jobId: string; attemptId: string }>; discardJobs?: string[] }
  >();
  const liveSessions = new Map<string, SessionState>();
  const watchers = new Set<() => void>();
  const changed = () => watchers.forEach((w) => w());

  const isCurrent = (workerId: string, incarnation: number) => current.get(workerId) === incarnation;

  const stub: StubCoordinator = {
    url: '',
    registrations: [],
    heartbeats: [],
    outcomes: [],
    fetchFailures: [],
    sessions: [],
    polls: [],
    bundles: new Map(),
    bundleGets: 0,
    incarnation: (workerId) => current.get(workerId) ?? 0,
    lease(workerId, spec) {
      leases.set(workerId, [...(leases.get(workerId) ?? []), spec]);
      pollWakers.get(workerId)?.();
    },
    send(workerId, command) {
      const s = liveSessions.get(workerId);
      if (s === undefined) throw new Error(`no session of ${workerId}`);
      s.queue.push(command);
      s.wake?.();
    },
    onNextHeartbeat(workerId, answer) {
      nextHeartbeat.set(workerId, answer);
    },
    fence(workerId) {
      current.set(workerId, -1);
    },
    until(predicate, what, ms = 20_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!predicate()) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`stub coordinator: ${what}: not within ${ms} ms`));
        }, ms);
        const cleanup = () => {
          clearTimeout(timer);
          watchers.delete(check);
        };
        watchers.add(check);
        check();
      });
    },
    close: () => server.close(),
  };

  const { log } = memoryLogger();
  const server = createRpcServer({
    host: '127.0.0.1',
    port: 0,
    token: options.token ?? TEST_TOKEN,
    tls: options.tls,
    log,
    routes: (router) =>
      router.service(
        WorkerService,
        {
          register(req) {
            const r = registrationFromWire(req);
            stub.registrations.push(r);
            changed();
            if (options.refuse !== undefined) throw new ConnectError(options.refuse, Code.FailedPrecondition);
            const incarnation = ++nextIncarnation;
            current.set(r.workerId, incarnation);
            lastPoll.delete(r.workerId);
            const interval = options.heartbeatIntervalMs ?? 100;
            return {
              incarnation: BigInt(incarnation),
              heartbeatIntervalMs: interval,
              heartbeatTimeoutMs: interval * 5,
            };
          },
          heartbeat(req) {
            const beat = heartbeatFromWire(req);
            stub.heartbeats.push(beat);
            changed();
            const { workerId, incarnation } = beat.worker;
            if (!isCurrent(workerId, incarnation)) return { reregister: true };
            const answer = nextHeartbeat.get(workerId) ?? {};
            nextHeartbeat.delete(workerId);
            return {
              kill: (answer.kill ?? []).map((k) => ({ ...k, reason: 'killed by the test' })),
              discardJobs: answer.discardJobs ?? [],
            };
          },
          async acquireTasks(req, ctx: HandlerContext) {
            const poll = taskPollFromWire(req);
            const { workerId, incarnation } = poll.worker;
            stub.polls.push({ workerId, incarnation, freeSlots: poll.freeSlots, pollSeq: poll.pollSeq });
            changed();
            if (!isCurrent(workerId, incarnation))
              return create(AcquireTasksResponseSchema, { reregister: true });
            const last = lastPoll.get(workerId);
            if (last?.seq === poll.pollSeq) return last.answer;
            const deadline = AbortSignal.any([ctx.signal, AbortSignal.timeout(poll.waitMs)]);
            while (
              !(leases.get(workerId)?.length ?? 0) &&
              !deadline.aborted &&
              isCurrent(workerId, incarnation)
            ) {
              await new Promise<void>((resolve) => {
                pollWakers.set(workerId, resolve);
                deadline.addEventListener('abort', () => resolve(), { once: true });
              });
            }
            pollWakers.delete(workerId);
            const queued = leases.get(workerId) ?? [];
            const given = queued.splice(0, poll.freeSlots);
            const answer = create(AcquireTasksResponseSchema, {
              reregister: !isCurrent(workerId, incarnation),
              leases: given.map(taskSpecToWire),
            });
            lastPoll.set(workerId, { seq: poll.pollSeq, answer });
            return answer;
          },
          reportOutcome(req) {
            const report = outcomeReportFromWire(req);
            const { workerId, incarnation } = report.worker;
            stub.outcomes.push({
              workerId,
              incarnation,
              jobId: report.jobId,
              attemptId: report.attemptId,
              outcome: report.outcome,
            });
            changed();
            return { reregister: !isCurrent(workerId, incarnation) };
          },
          reportFetchFailure(req) {
            const report = fetchFailureFromWire(req);
            stub.fetchFailures.push(report);
            changed();
            return { reregister: !isCurrent(report.worker.workerId, report.worker.incarnation) };
          },
          getBundle(req) {
            stub.bundleGets++;
            const bundle = stub.bundles.get(bundleHashFromWire(req));
            if (!bundle) throw new ConnectError('no such bundle', Code.NotFound);
            return { bundle };
          },
          async *session(req, ctx: HandlerContext): AsyncGenerator<SessionResponse> {
            const { workerId, incarnation } = sessionRequestFromWire(req);
            if (!isCurrent(workerId, incarnation)) {
              yield create(SessionResponseSchema, {
                command: { case: 'reregister', value: { reason: 'stale' } },
              });
              return;
            }
            const record = { workerId, incarnation, ended: false };
            const state: SessionState = { workerId, incarnation, queue: [], ended: false };
            liveSessions.set(workerId, state);
            stub.sessions.push(record);
            changed();
            try {
              yield create(SessionResponseSchema, { command: { case: 'attached', value: {} } });
              while (!ctx.signal.aborted) {
                const command = state.queue.shift();
                if (command === undefined) {
                  await new Promise<void>((resolve) => {
                    state.wake = resolve;
                    ctx.signal.addEventListener('abort', () => resolve(), { once: true });
                  });
                  continue;
                }
                yield create(SessionResponseSchema, { command });
                if (command.case === 'reregister') return;
              }
            } finally {
              record.ended = true;
              if (liveSessions.get(workerId) === state) liveSessions.delete(workerId);
              changed();
            }
          },
        },
        serviceLimits.worker,
      ),
  });
  const address = await server.listen();
  stub.url = address.url;
  return stub;
}
