/**
 * The coordinator's table of workers: who is registered under which
 * incarnation, who is alive, what each one runs and holds, and the commands
 * and leases waiting for it (DESIGN.md §9; Google MapReduce §3.3, Hadoop's
 * JobTracker/TaskTracker liveness).
 *
 * Fencing: `Register` starts a new, higher incarnation of a worker and ends
 * the previous one. Every later call names `(workerId, incarnation)`;
 * {@link WorkerRegistry.current} answers only for the live current
 * incarnation, so a call from an ended one (a worker declared dead while
 * SIGSTOPped or cut off, whose RPCs arrive late) changes nothing and is
 * answered "re-register".
 *
 * A worker is lost (once per incarnation, {@link WorkerRegistryEvents.lost})
 * when its `Session` stream ends (its process exited: the connection closed),
 * when it misses `missedHeartbeats` heartbeat intervals (SIGSTOP, a cut link),
 * when it registers again, or when the coordinator shuts down. It is
 * `suspect` after two intervals without a heartbeat.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../../observe/logger.ts';
import type * as pb from './gen/tsmr/cluster/v1/task_pb.js';
import type { AttemptRef, Heartbeat, WorkerRef, WorkerRegistration } from './wire-worker.ts';
import type { WorkerState, WorkerStatus } from './wire-status.ts';

/** A command for a worker's `Session` stream. */
export type WorkerCommand =
  | { kind: 'kill'; jobId: string; attemptId: string; reason: string }
  | { kind: 'drain'; reason: string }
  | { kind: 'discardJob'; jobId: string }
  | { kind: 'reregister'; reason: string };

/** A lease waiting for its worker's next `AcquireTasks`. */
export interface QueuedLease {
  jobId: string;
  attemptId: string;
  lease: pb.TaskLease;
}

/** One incarnation of a worker, as the registry keeps it. */
export interface WorkerEntry {
  readonly id: string;
  readonly incarnation: number;
  readonly registration: WorkerRegistration;
  readonly registeredAt: number;
  lastHeartbeatAt: number;
  alive: boolean;
  /** Excluded from a job by the scheduler (per-job blacklisting), for status. */
  excluded: boolean;
  /** Attempts it reported running in its last heartbeat, by attempt id. */
  running: ReadonlyMap<string, { jobId: string; bytes: number; records: number }>;
  mapOutputsHeld: number;
  shuffleBytesServed: number;
  attemptsRun: number;
  attemptsFailed: number;
  /** Its attempts that ended, and the sum of their run times, ms (for the average task time). */
  attemptsEnded: number;
  attemptMs: number;
  /** Leases not yet handed out. */
  readonly leases: QueuedLease[];
  /** Kills to repeat in heartbeat answers until it stops reporting those attempts. */
  readonly kills: Map<string, { jobId: string; reason: string }>;
  /** Jobs whose files it must delete (repeated in heartbeat answers until the next beat). */
  readonly discardJobs: Set<string>;
  /** The last `AcquireTasks` answer, for a retry with the same `poll_seq`. */
  lastPoll?: { seq: number; leases: QueuedLease[] };
}

export interface WorkerRegistryEvents {
  /** A new incarnation registered (after `lost` of the previous one, if it was alive). */
  joined: [worker: WorkerEntry];
  /** An incarnation ended: its attempts and map outputs are gone. */
  lost: [worker: WorkerEntry, reason: string];
  /** A heartbeat of a live incarnation was taken in. */
  heartbeat: [worker: WorkerEntry];
}

export interface WorkerRegistryOptions {
  /** Heartbeat interval the workers are told, ms (default 2000). */
  heartbeatIntervalMs: number;
  /** Intervals without a heartbeat before a worker is lost (default 5). */
  missedHeartbeats: number;
  log: Logger;
}

/** Live workers, their incarnations, commands and leases. */
export class WorkerRegistry extends EventEmitter<WorkerRegistryEvents> {
  readonly #opts: WorkerRegistryOptions;
  /** The latest incarnation of each worker id, in order of first registration. */
  readonly #workers = new Map<string, WorkerEntry>();
  /** Waiters of `AcquireTasks` and `Session` per worker id: woken when its leases or commands change. */
  readonly #wake = new Map<string, Set<() => void>>();
  /** Session command queues of live incarnations. */
  readonly #commands = new Map<string, WorkerCommand[]>();
  /** Incarnations grow across coordinator restarts: they start at the clock. */
  #lastIncarnation = Date.now();
  readonly #timer: NodeJS.Timeout;
  #closed = false;

  constructor(opts: WorkerRegistryOptions) {
    super();
    this.#opts = opts;
    this.#timer = setInterval(() => this.#checkHeartbeats(), Math.max(50, opts.heartbeatIntervalMs / 2));
    this.#timer.unref();
  }

  get heartbeatIntervalMs(): number {
    return this.#opts.heartbeatIntervalMs;
  }

  get heartbeatTimeoutMs(): number {
    return this.#opts.heartbeatIntervalMs * this.#opts.missedHeartbeats;
  }

  /** Starts a new incarnation of `reg.workerId`, ending the previous one. */
  register(reg: WorkerRegistration): WorkerEntry {
    const previous = this.#workers.get(reg.workerId);
    if (previous?.alive) this.lose(previous, 'it registered again (a new incarnation)');
    const now = Date.now();
    const entry: WorkerEntry = {
      id: reg.workerId,
      incarnation: ++this.#lastIncarnation,
      registration: reg,
      registeredAt: now,
      lastHeartbeatAt: now,
      alive: true,
      excluded: false,
      running: new Map(),
      mapOutputsHeld: 0,
      shuffleBytesServed: 0,
      attemptsRun: previous?.attemptsRun ?? 0,
      attemptsFailed: previous?.attemptsFailed ?? 0,
      attemptsEnded: previous?.attemptsEnded ?? 0,
      attemptMs: previous?.attemptMs ?? 0,
      leases: [],
      kills: new Map(),
      discardJobs: new Set(),
    };
    this.#workers.set(reg.workerId, entry);
    this.#commands.set(reg.workerId, []);
    this.#opts.log.info(
      { worker: entry.id, incarnation: entry.incarnation, shuffleUrl: reg.shuffleUrl, slots: reg.slots },
      'worker registered',
    );
    this.emit('joined', entry);
    return entry;
  }

  /** The live incarnation `ref` names, or undefined (unknown, ended or fenced: answer "re-register"). */
  current(ref: WorkerRef): WorkerEntry | undefined {
    const entry = this.#workers.get(ref.workerId);
    return entry?.alive && entry.incarnation === ref.incarnation ? entry : undefined;
  }

  /** Live incarnations, in order of first registration. */
  alive(): WorkerEntry[] {
    return [...this.#workers.values()].filter((w) => w.alive);
  }

  /** Ends `entry`'s incarnation (once): its leases are dropped and a live session is told to re-register. */
  lose(entry: WorkerEntry, reason: string): void {
    if (!entry.alive) return;
    entry.alive = false;
    entry.leases.length = 0;
    entry.kills.clear();
    this.#commands.set(entry.id, [{ kind: 'reregister', reason }]);
    this.#wakeUp(entry.id);
    this.#opts.log.warn({ worker: entry.id, incarnation: entry.incarnation, reason }, 'worker lost');
    this.emit('lost', entry, reason);
  }

  /** Takes in a heartbeat of the live incarnation `entry`; returns what its answer must carry. */
  heartbeat(
    entry: WorkerEntry,
    beat: Heartbeat,
  ): { kills: Array<AttemptRef & { reason: string }>; discardJobs: string[] } {
    entry.lastHeartbeatAt = Date.now();
    entry.running = new Map(
      beat.running.map((r) => [r.attemptId, { jobId: r.jobId, bytes: r.bytes, records: r.records }]),
    );
    entry.mapOutputsHeld = beat.mapOutputs.length;
    entry.shuffleBytesServed = beat.shuffleBytesServed;
    for (const attemptId of [...entry.kills.keys()]) {
      if (!entry.running.has(attemptId)) entry.kills.delete(attemptId);
    }
    const discardJobs = [...entry.discardJobs];
    entry.discardJobs.clear();
    this.emit('heartbeat', entry);
    return {
      kills: [...entry.kills].map(([attemptId, k]) => ({ jobId: k.jobId, attemptId, reason: k.reason })),
      discardJobs,
    };
  }

  /** Queues a lease for the live incarnation `entry`'s next poll. */
  offer(entry: WorkerEntry, lease: QueuedLease): void {
    entry.leases.push(lease);
    this.#wakeUp(entry.id);
  }

  /**
   * The leases for a poll: those answered to the same `seq` before (a retry),
   * else up to `freeSlots` queued ones, waiting up to `waitMs` for one.
   * Resolves with none when `signal` aborts or the incarnation ends.
   */
  async acquire(
    entry: WorkerEntry,
    freeSlots: number,
    waitMs: number,
    seq: number,
    signal: AbortSignal,
  ): Promise<QueuedLease[]> {
    if (entry.lastPoll?.seq === seq) return entry.lastPoll.leases;
    const deadline = Date.now() + waitMs;
    while (entry.alive && entry.leases.length === 0 && freeSlots > 0 && !signal.aborted && !this.#closed) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await this.#waitFor(entry.id, left, signal);
    }
    const leases = entry.alive ? entry.leases.splice(0, freeSlots) : [];
    entry.lastPoll = { seq, leases };
    return leases;
  }

  /** Sends a command on `entry`'s session (kills are also repeated in heartbeat answers). */
  command(entry: WorkerEntry, command: WorkerCommand): void {
    if (!entry.alive) return;
    if (command.kind === 'kill') {
      const queued = entry.leases.findIndex((l) => l.attemptId === command.attemptId);
      if (queued >= 0) entry.leases.splice(queued, 1);
      entry.kills.set(command.attemptId, { jobId: command.jobId, reason: command.reason });
    }
    if (command.kind === 'discardJob') entry.discardJobs.add(command.jobId);
    this.#commands.get(entry.id)?.push(command);
    this.#wakeUp(entry.id);
  }

  /**
   * The session stream of `entry`: its commands as they come, until the
   * incarnation ends (then a last `reregister`, if it was lost rather than
   * drained) or `signal` aborts. The caller loses the worker when the stream
   * ends while the incarnation is still live (the connection closed).
   */
  async *sessionCommands(entry: WorkerEntry, signal: AbortSignal): AsyncGenerator<WorkerCommand> {
    while (!signal.aborted) {
      const queue = this.#commands.get(entry.id);
      if (this.#workers.get(entry.id) !== entry) return;
      const next = queue?.shift();
      if (next !== undefined) {
        yield next;
        if (next.kind === 'reregister' || next.kind === 'drain') return;
        continue;
      }
      await this.#waitFor(entry.id, 60_000, signal);
    }
  }

  /** Every worker's latest incarnation, for `GetStatus`. */
  status(): WorkerStatus[] {
    const now = Date.now();
    return [...this.#workers.values()].map((w) => ({
      workerId: w.id,
      incarnation: w.incarnation,
      state: this.#stateOf(w, now),
      hostName: w.registration.hostName,
      pid: w.registration.pid,
      shuffleUrl: w.registration.shuffleUrl,
      tsmrVersion: w.registration.tsmrVersion,
      registeredAt: w.registeredAt,
      lastHeartbeatAt: w.lastHeartbeatAt,
      slotsTotal: w.registration.slots,
      slotsBusy: w.alive ? w.running.size : 0,
      attemptsRun: w.attemptsRun,
      attemptsFailed: w.attemptsFailed,
      averageAttemptMs: w.attemptsEnded > 0 ? Math.round(w.attemptMs / w.attemptsEnded) : undefined,
      mapOutputsHeld: w.alive ? w.mapOutputsHeld : 0,
      shuffleBytesServed: w.shuffleBytesServed,
    }));
  }

  /** Drains every live worker (coordinator shutdown) and stops the heartbeat check. */
  close(reason: string): void {
    if (this.#closed) return;
    for (const w of this.alive()) this.command(w, { kind: 'drain', reason });
    this.#closed = true;
    clearInterval(this.#timer);
    for (const id of this.#wake.keys()) this.#wakeUp(id);
  }

  #stateOf(w: WorkerEntry, now: number): WorkerState {
    if (!w.alive) return 'dead';
    if (w.excluded) return 'excluded';
    return now - w.lastHeartbeatAt > 2 * this.#opts.heartbeatIntervalMs ? 'suspect' : 'alive';
  }

  #checkHeartbeats(): void {
    const now = Date.now();
    for (const w of this.alive()) {
      if (now - w.lastHeartbeatAt > this.heartbeatTimeoutMs) {
        this.lose(
          w,
          `no heartbeat for ${Math.round((now - w.lastHeartbeatAt) / 1000)} s (${this.#opts.missedHeartbeats} missed)`,
        );
      }
    }
  }

  #waitFor(workerId: string, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let waiters = this.#wake.get(workerId);
      if (waiters === undefined) this.#wake.set(workerId, (waiters = new Set()));
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      waiters.add(done);
    });
  }

  #wakeUp(workerId: string): void {
    for (const wake of [...(this.#wake.get(workerId) ?? [])]) wake();
  }
}
