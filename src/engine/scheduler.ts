/**
 * The scheduler: a pure state machine that owns task and attempt state and is
 * shared by local mode (one worker whose slots are threads) and cluster mode
 * (many workers). `handle(event)` returns the decisions the runtime must carry
 * out. No I/O, no timers, no clock, no randomness: the same event sequence
 * always yields the same decisions.
 *
 * Rules (sources in brackets):
 *
 * - **Phases.** Map tasks first; reduce tasks are assigned only when every map
 *   task is committed (no "slow start"). A task is done when its commit is done.
 *   When every reduce task is committed (map-only job: every map task), the job
 *   succeeds, once.
 * - **Placement.** Pending tasks go to free slots lowest task index first; each
 *   goes to the live worker with the most free slots (ties: earliest joined),
 *   preferring workers on which the task has not failed yet, never to an
 *   excluded worker.
 * - **Worker exclusion** [Hadoop's per-job TaskTracker blacklist,
 *   `mapreduce.job.maxtaskfailures.per.tracker`; Spark's
 *   `spark.excludeOnFailure`]. A worker on which `maxWorkerFailures` attempts
 *   of this job failed while running (errors and timeouts; not kills, lost
 *   workers, uncounted failures, refused commits or fetch failures, which are
 *   no fault of the worker that ran them) is excluded: it gets no more tasks
 *   of the job (its running attempts go on), also after it rejoins. When a
 *   task needs an attempt and every live worker with slots is excluded, the
 *   job fails with `TSMR_TASK_FAILED` saying so, rather than wait (Hadoop
 *   instead ignores its blacklist once a third of the nodes are on it).
 * - **Retries** [Google MR §3.3, Hadoop]. A failed attempt is retried until the
 *   task has failed `maxAttempts` times, then the job fails with
 *   `TSMR_TASK_FAILED` (the last error as cause) and every running attempt is
 *   killed. `retriable: false` fails the job at once, with the attempt's own
 *   error code (its error as cause): no retry was made, and the code says
 *   what to fix (`TSMR_BAD_KEY`, `TSMR_INPUT_CHANGED`…). Attempts killed because
 *   their worker died, failures of a reduce attempt that reported a fetch
 *   failure (the map's fault, not its own), and failures reported with
 *   `counted: false` (skip mode [Google MR §3.7]: the next attempt leaves out
 *   the record this one failed on) do not count.
 * - **Commit.** The first success of an uncommitted task gets a `commit`
 *   decision; later successes wait while it is in flight and become duplicates
 *   once it succeeds. `commitDone(committed: false)` makes the attempt a
 *   duplicate, counts as a failure (so a runtime that keeps refusing cannot loop
 *   forever) and commits the next waiting success, if any. Outcomes of attempts
 *   of committed tasks, of killed attempts, or of unknown attempts are ignored
 *   and counted (`duplicateCompletions`, `lateEvents`): never a second commit.
 * - **Timeouts.** Every event first advances the clock and applies what expired
 *   by then: a worker with no heartbeat for `heartbeatTimeoutMs` is lost (its
 *   attempts get `kill` decisions); an attempt with no progress for
 *   `taskTimeoutMs` is killed and counts as failed (`TSMR_TASK_TIMEOUT`).
 * - **Lost workers** [Google MR §3.3]. Running attempts are killed and retried
 *   elsewhere, not counted. While some reduce task is not committed, the map
 *   outputs the worker held are lost: those map tasks are re-executed, and
 *   unassigned reduces wait for them again. (If the last reduce commits while a
 *   map is being re-executed, its previous output was read by all; it is
 *   restored as the committed attempt.) Reduce outputs live on the shared output
 *   file system and are not lost.
 * - **Fetch failures** [Hadoop's JobImpl: a map is re-run after 3
 *   notifications that are also at least half the shuffling reducers,
 *   `MAX_ALLOWED_FETCH_FAILURES_FRACTION` 0.5]. With S reduce attempts running
 *   (at least 1), a committed map output is re-executed after
 *   max(min(`maxFetchFailures`, S), ⌈S / 2⌉) reports about it (from any
 *   reducers), or one report when its worker is known lost; the new output
 *   replaces the old one when it commits. So one reducer that cannot reach a
 *   worker does not re-run every map there while many reducers run, and a map
 *   that most of fewer than 3 running reducers cannot read is re-run before 3
 *   reports (each reduce attempt reports a map output once, so 3 reports from
 *   one reducer take 3 of its attempts). A report naming a map attempt that is no longer the committed one
 *   is stale and ignored. Fetch-failure re-executions count as a failure of the
 *   map task (as in Hadoop); re-executions after worker loss do not. The
 *   reporting reduce attempt is failed by the runtime with `attemptFailed`.
 * - **Speculation** [Google MR §3.6; LATE, Zaharia et al., OSDI 2008], on `tick`
 *   when enabled: when no task of the current phase is pending and some slot is
 *   free, a running attempt of a task without backup is a straggler when it has
 *   run `speculationMinRuntimeMs`, at least one task of its phase is committed,
 *   its progress rate (fraction per ms since start) is at most the median rate
 *   of the other tasks of its phase (committed: 1 / duration; running: best
 *   attempt's rate) divided by `speculationSlowdown`, and its estimated time
 *   left exceeds the median task duration (a backup could finish first).
 *   Stragglers, longest estimated time left first, each get one backup on
 *   another worker. The first attempt to commit wins; the others are killed.
 *   Rates come from `progress` events: a runtime that sends none makes every
 *   attempt still running at the end of a phase look stalled.
 * - **Cancel.** Running attempts are killed and the job fails with `TSMR_CANCELLED`.
 *
 * Slots: an attempt holds a slot of its worker from `assign` until it
 * succeeds, fails or is killed. Once the job has ended, every event is ignored.
 *
 * Journal: the state is a function of the event sequence, so a coordinator can
 * append events to a journal and, after a restart, replay them into a new
 * `Scheduler` (discarding the decisions of the replay) before handling new ones.
 */
import { ErrorCode, TsmrError, usageError } from '../errors.ts';
import type { SerializedError } from '../errors.ts';
import type { AttemptIo } from './job-report.ts';
import { attemptIdOf, attemptReportStatus, schedulerDefaults, taskIdOf } from './scheduler-types.ts';
import type {
  AttemptHistoryEntry,
  AttemptState,
  Decision,
  PhaseCounts,
  ResolvedSchedulerConfig,
  SchedulerConfig,
  SchedulerEvent,
  SchedulerSnapshot,
  SchedulerStats,
  TaskKind,
  TaskSnapshot,
  TaskState,
} from './scheduler-types.ts';

export * from './scheduler-types.ts';

interface Task {
  readonly id: string;
  readonly kind: TaskKind;
  readonly index: number;
  /** Position in assignment order: maps 0..M-1, then reduces M..M+R-1. */
  readonly order: number;
  readonly attempts: Attempt[];
  readonly running: Set<Attempt>;
  committing: Attempt | undefined;
  committed: Attempt | undefined;
  /** Last committed attempt whose map output was lost (restored if the job ends before re-execution does). */
  lost: Attempt | undefined;
  failures: number;
  readonly failedOn: Set<string>;
  speculated: boolean;
  /** In the pending queue. */
  queued: boolean;
}

interface Attempt {
  readonly id: string;
  readonly task: Task;
  readonly attempt: number;
  readonly workerId: string;
  readonly speculative: boolean;
  readonly startedAt: number;
  finishedAt: number | undefined;
  state: AttemptState;
  error: SerializedError | undefined;
  reason: string | undefined;
  output: unknown;
  progress: number;
  lastProgressAt: number;
  /** Input read, as last reported (`progress` events); output written (`attemptSucceeded`). */
  io: AttemptIo;
  /** Fetch failures reported about this attempt's (committed map) output. */
  fetchFailures: number;
  /** This (reduce) attempt reported a fetch failure: its own failure does not count. */
  reportedFetchFailure: boolean;
}

interface Worker {
  readonly id: string;
  slots: number;
  alive: boolean;
  lastHeartbeatAt: number;
  readonly running: Set<Attempt>;
  /** Attempts of the job that failed while running here (`maxWorkerFailures`). */
  failures: number;
}

/**
 * The legal moves of an attempt's state: every change goes through
 * `#move`, which refuses any other with `TSMR_INTERNAL`. `lost` → `committed`
 * restores a lost map output that every reduce had read before the job ended.
 */
const LEGAL_MOVES: Readonly<Record<AttemptState, readonly AttemptState[]>> = {
  running: ['succeeded', 'duplicate', 'failed', 'killed'],
  succeeded: ['committing', 'duplicate', 'killed'],
  committing: ['committed', 'duplicate', 'killed'],
  committed: ['lost'],
  lost: ['committed'],
  failed: [],
  killed: [],
  duplicate: [],
};

/** Pure MapReduce scheduler; see the module docs for its rules. */
export class Scheduler {
  readonly config: ResolvedSchedulerConfig;
  readonly #maps: Task[] = [];
  readonly #reduces: Task[] = [];
  readonly #tasks = new Map<string, Task>();
  readonly #attempts = new Map<string, Attempt>();
  readonly #running = new Set<Attempt>();
  /** Attempts whose state changed since the last {@link changedAttempts} call. */
  readonly #changed = new Set<Attempt>();
  readonly #workers = new Map<string, Worker>();
  /** Binary min-heap of tasks that need an attempt, by `order` (entries may be stale). */
  readonly #pending: Task[] = [];
  #mapsCommitted = 0;
  #reducesCommitted = 0;
  #now = 0;
  #status: 'running' | 'succeeded' | 'failed' = 'running';
  /** The error of the last failure charged to a worker: the cause when every worker is excluded. */
  #lastCharged: SerializedError | undefined;
  readonly #stats: SchedulerStats = {
    attemptsStarted: 0,
    failedAttempts: 0,
    killedAttempts: 0,
    timedOutAttempts: 0,
    duplicateCompletions: 0,
    lateEvents: 0,
    fetchFailures: 0,
    reexecutedMaps: 0,
    speculativeAttempts: 0,
    lostWorkers: 0,
  };

  /** @throws TsmrError `TSMR_USAGE` for a setting out of range. */
  constructor(config: SchedulerConfig) {
    const c: ResolvedSchedulerConfig = {
      ...schedulerDefaults,
      ...dropUndefined(config),
      numMaps: config.numMaps,
      numReduces: config.numReduces,
    };
    const count = (name: keyof ResolvedSchedulerConfig, min: number): void => {
      const v = c[name];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
        throw usageError(`scheduler setting ${name} must be an integer ≥ ${min}, got ${String(v)}`);
    };
    const positive = (name: keyof ResolvedSchedulerConfig): void => {
      const v = c[name];
      if (typeof v !== 'number' || !(v > 0))
        throw usageError(`scheduler setting ${name} must be a positive number of ms, got ${String(v)}`);
    };
    count('numMaps', 0);
    count('numReduces', 0);
    count('maxAttempts', 1);
    count('maxFetchFailures', 1);
    if (c.maxWorkerFailures !== Number.POSITIVE_INFINITY) count('maxWorkerFailures', 1);
    positive('taskTimeoutMs');
    positive('heartbeatTimeoutMs');
    positive('speculationSlowdown');
    if (!(c.speculationMinRuntimeMs >= 0))
      throw usageError(`scheduler setting speculationMinRuntimeMs must be ≥ 0`);
    this.config = Object.freeze(c);
    for (let i = 0; i < c.numMaps; i++) this.#maps.push(this.#newTask('map', i, i));
    for (let i = 0; i < c.numReduces; i++) this.#reduces.push(this.#newTask('reduce', i, c.numMaps + i));
  }

  /**
   * Applies one event and returns the decisions it leads to, in the order the
   * runtime must apply them. Never throws for late, duplicate or unknown ids
   * (they are counted); throws `TSMR_INTERNAL` for a malformed event.
   */
  handle(event: SchedulerEvent): Decision[] {
    if (this.#status !== 'running') {
      this.#stats.lateEvents++;
      return [];
    }
    if (typeof event.now !== 'number' || Number.isNaN(event.now)) throw internal(`event without a valid now`);
    this.#now = Math.max(this.#now, event.now);
    const out: Decision[] = [];
    this.#expire(out);
    if (this.#status === 'running') this.#apply(event, out);
    if (this.#status === 'running') this.#advance(out, event.type === 'tick');
    return out;
  }

  /** The committed output of a map task (`attemptSucceeded.output`), or undefined. */
  mapOutput(mapTaskId: string): unknown {
    const t = this.#tasks.get(mapTaskId);
    return t?.kind === 'map' ? t.committed?.output : undefined;
  }

  /** Committed map outputs by map index (undefined where not committed). */
  mapOutputs(): unknown[] {
    return this.#maps.map((t) => t.committed?.output);
  }

  /** One attempt's history entry, or undefined for an unknown id. */
  attempt(attemptId: string): AttemptHistoryEntry | undefined {
    const a = this.#attempts.get(attemptId);
    return a && historyEntry(a);
  }

  /**
   * History entries of the attempts that started or changed state (ended,
   * committed, lost…) since the last call, in start order; the set is then
   * cleared. For observers (the dashboard); progress alone is not a change.
   */
  changedAttempts(): AttemptHistoryEntry[] {
    const changed = [...this.#changed].sort((x, y) => x.startedAt - y.startedAt || (x.id < y.id ? -1 : 1));
    this.#changed.clear();
    return changed.map(historyEntry);
  }

  /** Every attempt so far, in start order (for `JobReport.attempts`). */
  attempts(): AttemptHistoryEntry[] {
    return [...this.#attempts.values()].map(historyEntry);
  }

  get status(): 'running' | 'succeeded' | 'failed' {
    return this.#status;
  }

  /** A copy of the counts of what happened so far (cheaper than {@link snapshot}). */
  stats(): SchedulerStats {
    return { ...this.#stats };
  }

  /** A copy of the whole state: tasks, per-phase counts, workers, stats. */
  snapshot(): SchedulerSnapshot {
    const counts = { map: emptyCounts(), reduce: emptyCounts() };
    const tasks: TaskSnapshot[] = [];
    for (const t of [...this.#maps, ...this.#reduces]) {
      const state = taskState(t);
      const c = counts[t.kind];
      c.total++;
      c[state]++;
      const s: TaskSnapshot = {
        taskId: t.id,
        kind: t.kind,
        index: t.index,
        state,
        attempts: t.attempts.map((a) => a.id),
        failures: t.failures,
        speculated: t.speculated,
      };
      if (t.committed) s.committedAttempt = t.committed.id;
      if (t.kind === 'map' && t.committed) s.mapOutput = t.committed.output;
      tasks.push(s);
    }
    return {
      now: this.#now,
      status: this.#status,
      phase: this.#mapsDone() ? 'reduce' : 'map',
      counts,
      tasks,
      workers: [...this.#workers.values()].map((w) => ({
        workerId: w.id,
        slots: w.slots,
        alive: w.alive,
        running: [...w.running].map((a) => a.id),
        lastHeartbeatAt: w.lastHeartbeatAt,
        failedAttempts: w.failures,
        excluded: this.#excluded(w),
      })),
      stats: { ...this.#stats },
      config: this.config,
    };
  }

  // ---- events -------------------------------------------------------------

  #apply(e: SchedulerEvent, out: Decision[]): void {
    switch (e.type) {
      case 'workerJoined':
        return this.#onWorkerJoined(e.workerId, e.slots);
      case 'workerLost': {
        const w = this.#workers.get(e.workerId);
        if (!w?.alive) return void this.#stats.lateEvents++;
        return this.#loseWorker(w, `worker ${w.id} lost`, false, out);
      }
      case 'heartbeat': {
        const w = this.#workers.get(e.workerId);
        if (!w?.alive) return void this.#stats.lateEvents++;
        w.lastHeartbeatAt = this.#now;
        return;
      }
      case 'progress': {
        const a = this.#attempts.get(e.attemptId);
        if (a?.state !== 'running') return void this.#stats.lateEvents++;
        if (Number.isFinite(e.fraction)) a.progress = Math.min(1, Math.max(a.progress, e.fraction, 0));
        if (e.bytes !== undefined) a.io.inputBytes = e.bytes;
        if (e.records !== undefined) a.io.inputRecords = e.records;
        a.lastProgressAt = this.#now;
        return;
      }
      case 'attemptSucceeded':
        return this.#onSucceeded(e.attemptId, e.output, e.written, out);
      case 'attemptFailed':
        return this.#onFailed(e.attemptId, e.error, e.retriable !== false, e.counted !== false, out);
      case 'commitDone':
        return this.#onCommitDone(e.attemptId, e.committed, out);
      case 'fetchFailed':
        return this.#onFetchFailed(e.mapTaskId, e.reduceAttemptId, e.mapAttemptId, out);
      case 'tick':
        return;
      case 'cancel':
        return this.#failJob(
          {
            name: 'TsmrError',
            code: ErrorCode.CANCELLED,
            message: `job cancelled: ${e.reason}`,
            details: { reason: e.reason },
          },
          'job cancelled',
          out,
        );
      default:
        throw internal(`unknown scheduler event ${JSON.stringify((e as { type?: unknown }).type)}`);
    }
  }

  #onWorkerJoined(workerId: string, slots: number): void {
    if (typeof workerId !== 'string' || workerId === '') throw internal('workerJoined without a workerId');
    if (!Number.isInteger(slots) || slots < 0)
      throw internal(`worker ${workerId}: slots must be an integer ≥ 0`);
    const w = this.#workers.get(workerId);
    if (w) {
      // A re-announcement (alive) or a rejoin after loss: its old attempts and outputs are already gone.
      w.alive = true;
      w.slots = slots;
      w.lastHeartbeatAt = this.#now;
      return;
    }
    this.#workers.set(workerId, {
      id: workerId,
      slots,
      alive: true,
      lastHeartbeatAt: this.#now,
      running: new Set(),
      failures: 0,
    });
  }

  #onSucceeded(
    attemptId: string,
    output: unknown,
    written: { bytes: number; records: number } | undefined,
    out: Decision[],
  ): void {
    const a = this.#attempts.get(attemptId);
    if (!a || a.state !== 'running') return this.#ignored(a);
    const t = a.task;
    this.#endRunning(a);
    a.output = output;
    if (written !== undefined) {
      a.io.outputBytes = written.bytes;
      a.io.outputRecords = written.records;
    }
    if (t.committed) {
      this.#move(a, 'duplicate', `task already committed by ${t.committed.id}`, out);
      this.#stats.duplicateCompletions++;
      return;
    }
    this.#move(a, 'succeeded', undefined, out);
    if (!t.committing) this.#startCommit(a, out);
  }

  #onFailed(
    attemptId: string,
    error: SerializedError,
    retriable: boolean,
    counted: boolean,
    out: Decision[],
  ): void {
    const a = this.#attempts.get(attemptId);
    if (!a || a.state !== 'running') return this.#ignored(a);
    const t = a.task;
    this.#endRunning(a);
    a.error = error;
    if (retriable && !t.committed && t.kind === 'reduce' && a.reportedFetchFailure) {
      // Hadoop counts a reducer that could not fetch a map output as killed: the map was at fault.
      this.#move(a, 'killed', 'failed after reporting a fetch failure (not counted)', out);
      this.#stats.killedAttempts++;
      this.#requeue(t);
      return;
    }
    if (retriable && !counted && !t.committed) {
      this.#move(a, 'failed', 'not counted: the next attempt differs (a bad record is skipped)', out);
      this.#stats.killedAttempts++;
      this.#requeue(t);
      return;
    }
    this.#move(a, 'failed', undefined, out);
    if (!retriable) {
      t.failures++;
      this.#stats.failedAttempts++;
      const e = taskError(
        t,
        a.attempt,
        `task ${t.id} attempt ${a.attempt} failed with an error that a retry cannot fix: ${error.message}`,
        error,
        error.code?.startsWith('TSMR_') ? error.code : ErrorCode.TASK_FAILED,
      );
      return this.#failJob(e, 'job failed', out);
    }
    if (t.committed) {
      this.#stats.duplicateCompletions++;
      this.#requeue(t);
      return;
    }
    this.#chargeWorker(a);
    this.#countFailure(t, a, error, out);
  }

  #onCommitDone(attemptId: string, committed: boolean, out: Decision[]): void {
    const a = this.#attempts.get(attemptId);
    if (!a || a.state !== 'committing') return void this.#stats.lateEvents++;
    const t = a.task;
    t.committing = undefined;
    if (!committed) {
      this.#move(a, 'duplicate', 'commit refused', out);
      this.#stats.duplicateCompletions++;
      const error = taskError(
        t,
        a.attempt,
        `commit of ${a.id} was refused (another commit of ${t.id} exists)`,
        undefined,
        ErrorCode.INTERNAL,
      );
      this.#commitNextOrRequeue(t, out);
      this.#countFailure(t, a, error, out);
      return;
    }
    this.#move(a, 'committed', undefined, out);
    t.committed = a;
    t.lost = undefined;
    a.fetchFailures = 0;
    if (t.kind === 'map') this.#mapsCommitted++;
    else this.#reducesCommitted++;
    for (const other of t.attempts) {
      if (other.state === 'running') this.#kill(other, `another attempt committed: ${a.id}`, out);
      else if (other.state === 'succeeded') {
        this.#move(other, 'duplicate', `task already committed by ${a.id}`, out);
        this.#stats.duplicateCompletions++;
      }
    }
  }

  #onFetchFailed(
    mapTaskId: string,
    reduceAttemptId: string,
    mapAttemptId: string | undefined,
    out: Decision[],
  ): void {
    const t = this.#tasks.get(mapTaskId);
    const r = this.#attempts.get(reduceAttemptId);
    if (t?.kind !== 'map' || r?.task.kind !== 'reduce') return void this.#stats.lateEvents++;
    this.#stats.fetchFailures++;
    r.reportedFetchFailure = true;
    const c = t.committed;
    // Already being re-executed, about an output already replaced, or no reduce needs map outputs any more.
    if (!c || (mapAttemptId !== undefined && mapAttemptId !== c.id)) return;
    if (this.#reducesCommitted === this.#reduces.length) return;
    c.fetchFailures++;
    if (!this.#workers.get(c.workerId)?.alive) {
      this.#loseMapOutput(t, `map output of ${c.id} lost: worker ${c.workerId} lost`, out);
    } else if (c.fetchFailures >= this.#fetchFailureLimit()) {
      const msg = `map output of ${c.id} on worker ${c.workerId} could not be fetched (${c.fetchFailures} fetch failures)`;
      this.#loseMapOutput(t, msg, out);
      this.#countFailure(t, c, taskError(t, c.attempt, msg, undefined, ErrorCode.IO), out, false);
    }
  }

  /** Reports that make a committed map output unreadable (see "Fetch failures" in the module doc). */
  #fetchFailureLimit(): number {
    let reducers = 0;
    for (const a of this.#running) if (a.task.kind === 'reduce') reducers++;
    const running = Math.max(1, reducers);
    return Math.max(Math.min(this.config.maxFetchFailures, running), Math.ceil(running / 2));
  }

  // ---- time ---------------------------------------------------------------

  /** Applies worker lease expiry, then attempt timeouts, as of `#now`. */
  #expire(out: Decision[]): void {
    const { heartbeatTimeoutMs, taskTimeoutMs } = this.config;
    for (const w of this.#workers.values()) {
      if (w.alive && this.#now - w.lastHeartbeatAt >= heartbeatTimeoutMs) {
        this.#loseWorker(w, `worker ${w.id} lost: no heartbeat for ${heartbeatTimeoutMs} ms`, true, out);
      }
    }
    for (const a of [...this.#running]) {
      if (this.#status !== 'running') return;
      if (this.#now - a.lastProgressAt < taskTimeoutMs) continue;
      const t = a.task;
      const msg = `attempt ${a.id} made no progress for ${taskTimeoutMs} ms`;
      const error = taskError(t, a.attempt, msg, undefined, ErrorCode.TASK_TIMEOUT);
      this.#stop(a, 'failed', msg, true, out);
      a.error = error;
      this.#stats.timedOutAttempts++;
      this.#chargeWorker(a);
      this.#countFailure(t, a, error, out);
    }
  }

  // ---- state changes --------------------------------------------------------

  #loseWorker(w: Worker, reason: string, sendKills: boolean, out: Decision[]): void {
    w.alive = false;
    this.#stats.lostWorkers++;
    for (const a of [...w.running]) this.#stop(a, 'killed', reason, sendKills, out);
    const outputsNeeded = this.#reducesCommitted < this.#reduces.length;
    for (const t of this.#maps) {
      // Succeeded map attempts not yet committed: their output is on the dead worker.
      let affected = false;
      for (const a of t.attempts) {
        if (a.workerId !== w.id || (a.state !== 'succeeded' && a.state !== 'committing')) continue;
        if (a.state === 'committing') t.committing = undefined;
        this.#move(a, 'killed', `${reason} before its map output was committed`, out);
        this.#stats.killedAttempts++;
        affected = true;
      }
      if (affected && !t.committing && !t.committed) this.#commitNextOrRequeue(t, out);
      if (outputsNeeded && t.committed?.workerId === w.id) {
        this.#loseMapOutput(t, `map output of ${t.committed.id} lost: ${reason}`, out);
      }
    }
  }

  /** Un-commits a map task whose output is gone, so that it runs again. */
  #loseMapOutput(t: Task, reason: string, out: Decision[]): void {
    const c = t.committed;
    if (!c) return;
    this.#move(c, 'lost', reason, out);
    t.committed = undefined;
    t.lost = c;
    t.speculated = false;
    this.#mapsCommitted--;
    this.#stats.reexecutedMaps++;
    this.#requeue(t);
  }

  /** Charges a failure of `a` to its worker, which may exclude the worker (`maxWorkerFailures`). */
  #chargeWorker(a: Attempt): void {
    const w = this.#workers.get(a.workerId);
    if (w) w.failures++;
    this.#lastCharged = a.error;
  }

  #excluded(w: Worker): boolean {
    return w.failures >= this.config.maxWorkerFailures;
  }

  /** Records a failure that counts against `maxAttempts`; fails the job when they are used up. */
  #countFailure(t: Task, a: Attempt, error: SerializedError, out: Decision[], requeue = true): void {
    t.failures++;
    t.failedOn.add(a.workerId);
    this.#stats.failedAttempts++;
    if (t.failures >= this.config.maxAttempts && !t.committing && !t.committed) {
      const e = taskError(
        t,
        a.attempt,
        `task ${t.id} failed ${t.failures} times; last error: ${error.message}`,
        error,
      );
      this.#failJob(e, 'job failed', out);
      return;
    }
    if (requeue) this.#requeue(t);
  }

  #startCommit(a: Attempt, out: Decision[]): void {
    this.#move(a, 'committing', undefined, out);
    a.task.committing = a;
    out.push({ type: 'commit', attemptId: a.id, taskId: a.task.id, kind: a.task.kind });
  }

  #commitNextOrRequeue(t: Task, out: Decision[]): void {
    const next = t.attempts.find((x) => x.state === 'succeeded');
    if (next) this.#startCommit(next, out);
    else this.#requeue(t);
  }

  #kill(a: Attempt, reason: string, out: Decision[]): void {
    this.#stop(a, 'killed', reason, true, out);
  }

  /** Ends a running attempt as `killed` (not counted) or `failed` (the caller counts it), with or without a `kill` decision. */
  #stop(a: Attempt, state: 'killed' | 'failed', reason: string, sendKill: boolean, out: Decision[]): void {
    this.#endRunning(a);
    this.#move(a, state, state === 'killed' ? reason : undefined, out);
    if (state === 'killed') this.#stats.killedAttempts++;
    if (sendKill) out.push({ type: 'kill', attemptId: a.id, workerId: a.workerId, reason });
    this.#requeue(a.task);
  }

  /**
   * The one place an attempt's state changes ({@link LEGAL_MOVES}). An attempt
   * that had succeeded and will now never be committed gets a `discard`
   * decision: its output is not wanted.
   * @throws TsmrError `TSMR_INTERNAL` for an illegal move (a bug).
   */
  #move(a: Attempt, to: AttemptState, reason: string | undefined, out: Decision[]): void {
    const from = a.state;
    if (!LEGAL_MOVES[from].includes(to)) throw internal(`attempt ${a.id}: illegal move ${from} → ${to}`);
    a.state = to;
    this.#changed.add(a);
    if (reason !== undefined) a.reason = reason;
    if ((from === 'succeeded' || from === 'committing') && (to === 'duplicate' || to === 'killed')) {
      out.push({ type: 'discard', attemptId: a.id, workerId: a.workerId, kind: a.task.kind });
    }
  }

  #endRunning(a: Attempt): void {
    a.finishedAt = this.#now;
    this.#running.delete(a);
    a.task.running.delete(a);
    this.#workers.get(a.workerId)?.running.delete(a);
  }

  #failJob(error: SerializedError, reason: string, out: Decision[]): void {
    for (const a of [...this.#running]) this.#kill(a, reason, out);
    this.#status = 'failed';
    out.push({ type: 'jobFailed', error });
  }

  #succeedJob(out: Decision[]): void {
    for (const t of this.#maps) {
      if (t.committed || !t.lost) continue;
      // Every reduce read this output before it was lost: it stays the committed one.
      for (const a of t.attempts) {
        if (a.state === 'succeeded' || a.state === 'committing') {
          this.#move(a, 'killed', 'job finished', out);
          this.#stats.killedAttempts++;
        }
      }
      t.committing = undefined;
      t.committed = t.lost;
      this.#move(t.committed, 'committed', undefined, out);
      t.committed.reason = undefined;
      t.lost = undefined;
      this.#mapsCommitted++;
    }
    for (const a of [...this.#running]) this.#kill(a, 'job finished', out);
    this.#status = 'succeeded';
    out.push({ type: 'jobSucceeded' });
  }

  /** An ignored attempt outcome: a duplicate if its task is committed, else late. */
  #ignored(a: Attempt | undefined): void {
    if (a?.task.committed) this.#stats.duplicateCompletions++;
    else this.#stats.lateEvents++;
  }

  // ---- assignment ---------------------------------------------------------

  #mapsDone(): boolean {
    return this.#mapsCommitted === this.#maps.length;
  }

  /** Ends the job if everything is committed; else assigns pending tasks, then (on tick) backups. */
  #advance(out: Decision[], tick: boolean): void {
    const jobDone =
      this.#reduces.length > 0 ? this.#reducesCommitted === this.#reduces.length : this.#mapsDone();
    if (jobDone) return this.#succeedJob(out);
    for (;;) {
      const t = this.#peekPending();
      if (!t || (t.kind === 'reduce' && !this.#mapsDone())) break;
      const w = this.#pickWorker(t, undefined);
      if (!w) return this.#failIfAllExcluded(t, out);
      this.#popPending();
      this.#assign(t, w, false, out);
    }
    if (tick && this.config.speculation) this.#speculate(out);
  }

  /** Fails the job when `t` needs an attempt and every live worker with slots is excluded. */
  #failIfAllExcluded(t: Task, out: Decision[]): void {
    const usable = [...this.#workers.values()].filter((w) => w.alive && w.slots > 0);
    if (usable.length === 0 || !usable.every((w) => this.#excluded(w))) return;
    const workers = usable.map((w) => `${w.id} (${w.failures})`).join(', ');
    const message =
      `no worker may run task ${t.id}: every live worker is excluded from this job after ` +
      `${this.config.maxWorkerFailures} failed attempts on it (failed attempts: ${workers}); ` +
      `fix the workers or the job, or add workers`;
    const error: SerializedError = {
      name: 'TsmrError',
      code: ErrorCode.TASK_FAILED,
      message,
      details: { taskId: t.id, workers: usable.map((w) => w.id) },
    };
    if (this.#lastCharged) error.cause = this.#lastCharged;
    this.#failJob(error, 'job failed', out);
  }

  #assign(t: Task, w: Worker, speculative: boolean, out: Decision[]): void {
    const attempt = t.attempts.length;
    const a: Attempt = {
      id: attemptIdOf(t.id, attempt),
      task: t,
      attempt,
      workerId: w.id,
      speculative,
      startedAt: this.#now,
      finishedAt: undefined,
      state: 'running',
      error: undefined,
      reason: undefined,
      output: undefined,
      progress: 0,
      lastProgressAt: this.#now,
      io: {},
      fetchFailures: 0,
      reportedFetchFailure: false,
    };
    t.attempts.push(a);
    this.#changed.add(a);
    t.running.add(a);
    w.running.add(a);
    this.#running.add(a);
    this.#attempts.set(a.id, a);
    this.#stats.attemptsStarted++;
    if (speculative) this.#stats.speculativeAttempts++;
    out.push({
      type: 'assign',
      attemptId: a.id,
      taskId: t.id,
      kind: t.kind,
      index: t.index,
      attempt,
      workerId: w.id,
      speculative,
    });
  }

  /** Live worker with a free slot: not failed on before, most free slots, earliest joined. */
  #pickWorker(t: Task, exclude: string | undefined): Worker | undefined {
    let best: Worker | undefined;
    let bestFailed = true;
    let bestFree = 0;
    for (const w of this.#workers.values()) {
      const free = w.slots - w.running.size;
      if (!w.alive || free <= 0 || w.id === exclude || this.#excluded(w)) continue;
      const failed = t.failedOn.has(w.id);
      if (!best || (bestFailed && !failed) || (bestFailed === failed && free > bestFree)) {
        best = w;
        bestFailed = failed;
        bestFree = free;
      }
    }
    return best;
  }

  #speculate(out: Decision[]): void {
    const phase = this.#mapsDone() ? this.#reduces : this.#maps;
    const head = this.#peekPending();
    if (head && head.kind === phase[0]?.kind) return; // some task of the phase is not assigned yet
    if (![...this.#workers.values()].some((w) => w.alive && w.running.size < w.slots)) return;
    const now = this.#now;
    const rateOf = (t: Task): number | undefined => {
      if (t.committed) return 1 / Math.max(1, (t.committed.finishedAt ?? now) - t.committed.startedAt);
      let best: number | undefined;
      for (const a of t.running) {
        const r = a.progress / Math.max(1, now - a.startedAt);
        if (best === undefined || r > best) best = r;
      }
      return best;
    };
    if (!phase.some((t) => t.committed)) return;
    const rates = new Map<Task, number>();
    for (const t of phase) {
      const r = rateOf(t);
      if (r !== undefined) rates.set(t, r);
    }
    const stragglers: { a: Attempt; left: number }[] = [];
    for (const t of phase) {
      if (t.committed || t.committing || t.speculated || t.running.size !== 1) continue;
      const [a] = t.running;
      if (!a || now - a.startedAt < this.config.speculationMinRuntimeMs) continue;
      const peers: number[] = [];
      for (const [p, r] of rates) if (p !== t) peers.push(r);
      if (peers.length === 0) continue;
      const median = medianOf(peers);
      if (!(median > 0)) continue;
      const rate = a.progress / Math.max(1, now - a.startedAt);
      if (rate > median / this.config.speculationSlowdown) continue;
      const left = rate > 0 ? (1 - a.progress) / rate : Infinity;
      if (left <= 1 / median) continue;
      stragglers.push({ a, left });
    }
    stragglers.sort((x, y) => y.left - x.left || x.a.task.order - y.a.task.order);
    for (const { a } of stragglers) {
      const w = this.#pickWorker(a.task, a.workerId);
      if (!w) continue;
      a.task.speculated = true;
      this.#assign(a.task, w, true, out);
    }
  }

  // ---- pending queue (binary min-heap by task order, lazily cleaned) ------------

  #requeue(t: Task): void {
    if (t.queued || !needsAttempt(t)) return;
    t.queued = true;
    const h = this.#pending;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.order <= h[i]!.order) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }

  #peekPending(): Task | undefined {
    while (this.#pending.length > 0) {
      const t = this.#pending[0]!;
      if (needsAttempt(t)) return t;
      this.#popPending();
    }
    return undefined;
  }

  #popPending(): void {
    const h = this.#pending;
    const top = h[0];
    const last = h.pop();
    if (top) top.queued = false;
    if (h.length === 0 || !last) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l]!.order < h[m]!.order) m = l;
      if (r < h.length && h[r]!.order < h[m]!.order) m = r;
      if (m === i) break;
      [h[m], h[i]] = [h[i]!, h[m]!];
      i = m;
    }
  }

  #newTask(kind: TaskKind, index: number, order: number): Task {
    const t: Task = {
      id: taskIdOf(kind, index),
      kind,
      index,
      order,
      attempts: [],
      running: new Set(),
      committing: undefined,
      committed: undefined,
      lost: undefined,
      failures: 0,
      failedOn: new Set(),
      speculated: false,
      queued: false,
    };
    this.#tasks.set(t.id, t);
    this.#requeue(t);
    return t;
  }
}

function needsAttempt(t: Task): boolean {
  return !t.committed && !t.committing && t.running.size === 0;
}

function taskState(t: Task): TaskState {
  if (t.committed) return 'committed';
  if (t.committing) return 'committing';
  return t.running.size > 0 ? 'running' : 'pending';
}

function historyEntry(a: Attempt): AttemptHistoryEntry {
  const e: AttemptHistoryEntry = {
    taskId: a.task.id,
    attempt: a.attempt,
    worker: a.workerId,
    startedAt: a.startedAt,
    status: attemptReportStatus[a.state],
    attemptId: a.id,
    kind: a.task.kind,
    index: a.task.index,
    speculative: a.speculative,
    state: a.state,
  };
  if (a.finishedAt !== undefined) e.finishedAt = a.finishedAt;
  if (a.error !== undefined) e.error = a.error;
  if (a.reason !== undefined) e.reason = a.reason;
  Object.assign(e, a.io);
  return e;
}

/** A `TsmrError`-shaped serialized error naming the task and attempt. */
function taskError(
  t: Task,
  attempt: number,
  message: string,
  cause: SerializedError | undefined,
  code: string = ErrorCode.TASK_FAILED,
): SerializedError {
  const e: SerializedError = { name: 'TsmrError', code, message, details: { taskId: t.id, attempt } };
  if (cause) e.cause = cause;
  return e;
}

function internal(message: string): TsmrError {
  return new TsmrError(ErrorCode.INTERNAL, message);
}

function emptyCounts(): PhaseCounts {
  return { total: 0, pending: 0, running: 0, committing: 0, committed: 0 };
}

function medianOf(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
