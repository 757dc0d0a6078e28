/**
 * Property tests: the scheduler driven by a tiny simulated runtime (fake clock,
 * workers that join and die, openly or silently, attempts that fail, hang,
 * straggle, and report twice or late), checked against the runtime's own
 * independent book-keeping.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseAttemptId, Scheduler, taskIdOf } from './scheduler.ts';
import type { Decision, SchedulerEvent, TaskKind } from './scheduler.ts';

interface Params {
  numMaps: number;
  numReduces: number;
  maxAttempts: number;
  /** The scheduler's `maxWorkerFailures` (Infinity: no exclusion). */
  maxWorkerFailures: number;
  workers: number[]; // slots of the workers joined at t=0; worker w0 never dies
  joins: { at: number; slots: number }[];
  deaths: { worker: number; at: number; silent: boolean }[];
  failureRate: number;
  hangRate: number;
  stragglerRate: number;
  dupRate: number;
  lateRate: number;
  refuseRate: number;
  /** A reducer fails to read a live map output (network blip). */
  fetchFlakeRate: number;
  speculation: boolean;
  cancelAt: number | undefined;
  /** Injected failures (throws + hangs) per task; Infinity = unbounded. */
  failureBudget: number;
  seed: number;
}

const HEARTBEAT_EVERY = 20;
const HEARTBEAT_TIMEOUT = 100;
const TICK_EVERY = 25;
const TASK_TIMEOUT = 400;
const TIME_LIMIT = 60_000;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Action =
  | { kind: 'event'; event: SchedulerEvent; fromAttempt?: string }
  | { kind: 'heartbeat'; worker: string }
  | { kind: 'tick' }
  | { kind: 'die'; worker: string; silent: boolean }
  | { kind: 'fetch'; attemptId: string };

interface SimAttempt {
  id: string;
  taskId: string;
  kind: TaskKind;
  worker: string;
  /** Map output locations known at assignment (reduces). */
  inputs: { mapTaskId: string; mapAttemptId: string; worker: string }[];
  killed: boolean;
  succeeded: boolean;
}

interface Outcome {
  terminal: Decision[];
  scheduler: Scheduler;
}

/** Runs one simulated job; throws (assert) on any violated invariant. */
function simulate(p: Params): Outcome {
  const rnd = mulberry32(p.seed);
  const between = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const s = new Scheduler({
    numMaps: p.numMaps,
    numReduces: p.numReduces,
    maxAttempts: p.maxAttempts,
    maxWorkerFailures: p.maxWorkerFailures,
    taskTimeoutMs: TASK_TIMEOUT,
    heartbeatTimeoutMs: HEARTBEAT_TIMEOUT,
    speculation: p.speculation,
    speculationMinRuntimeMs: 30,
  });

  // The runtime's own books.
  const queue: { at: number; seq: number; action: Action }[] = [];
  let seq = 0;
  let now = 0;
  const push = (at: number, action: Action) => {
    const item = { at, seq: seq++, action };
    let i = queue.length;
    while (i > 0 && (queue[i - 1]!.at > at || (queue[i - 1]!.at === at && queue[i - 1]!.seq > item.seq))) i--;
    queue.splice(i, 0, item);
  };
  const slots = new Map<string, number>();
  const alive = new Map<string, boolean>(); // truth: is the process alive
  const silent = new Set<string>();
  const notifiedLost = new Set<string>();
  const lastLease = new Map<string, number>(); // last join/heartbeat delivered
  const active = new Map<string, SimAttempt>(); // running, as the scheduler must see it
  const attempts = new Map<string, SimAttempt>();
  const injected = new Map<string, number>();
  const commitInFlight = new Map<string, string>(); // taskId -> attemptId
  const committed = new Map<string, SimAttempt>(); // taskId -> attempt whose commit was accepted
  const fetchReports = new Map<string, number>(); // map attempt id -> fetch failures reported
  /**
   * Map attempts reported unreadable often enough to be re-run: max(min(3, S), ⌈S / 2⌉) reports
   * with S (at least 1) reduce attempts running at the last of them.
   */
  const unreadable = new Set<string>();
  /** A map's committed output may be replaced only once it is gone or reported unreadable enough. */
  const replaceable = (a: SimAttempt) => alive.get(a.worker) === false || unreadable.has(a.id);
  const terminal: Decision[] = [];

  const deliver = (event: SchedulerEvent) => {
    // Attempts this event ends. The scheduler applies expiries (which may kill them) before the
    // event, and assigns after it: release their slots at their kill, else before the first assign.
    const releasing = new Set<string>();
    if (event.type === 'workerLost') {
      notifiedLost.add(event.workerId);
      for (const [id, a] of active) if (a.worker === event.workerId) releasing.add(id);
    }
    if (
      (event.type === 'attemptSucceeded' || event.type === 'attemptFailed') &&
      active.has(event.attemptId)
    ) {
      releasing.add(event.attemptId);
      if (event.type === 'attemptSucceeded') attempts.get(event.attemptId)!.succeeded = true;
    }
    const release = () => {
      for (const id of releasing) active.delete(id);
      releasing.clear();
    };
    if (
      event.type === 'commitDone' &&
      commitInFlight.get(attempts.get(event.attemptId)?.taskId ?? '') === event.attemptId
    ) {
      commitInFlight.delete(attempts.get(event.attemptId)!.taskId);
    }
    if (event.type === 'heartbeat' || event.type === 'workerJoined') {
      if (event.type === 'workerJoined' || !notifiedLost.has(event.workerId))
        lastLease.set(event.workerId, event.now);
    }
    const decisions = s.handle(event);
    if (terminal.length > 0) assert.deepEqual(decisions, [], 'no decision after the job ended');
    // Failures are charged to workers before any assignment of the same event: a worker excluded
    // now was excluded before any assignment below.
    const workers = s.snapshot().workers;
    const excluded = new Set(workers.filter((w) => w.excluded).map((w) => w.workerId));
    for (const w of workers) {
      assert.equal(w.excluded, w.failedAttempts >= p.maxWorkerFailures, `exclusion of ${w.workerId}`);
    }
    for (const d of decisions) {
      if (d.type === 'assign') {
        assert.ok(!excluded.has(d.workerId), `assign of ${d.attemptId} to excluded ${d.workerId}`);
        release();
      }
      if (d.type === 'jobFailed' && /every live worker is excluded/.test(d.error.message)) {
        const usable = workers.filter((w) => w.alive && w.slots > 0);
        assert.ok(usable.length > 0 && usable.every((w) => w.excluded), 'failed with a usable worker left');
      }
      react(d);
    }
    release();
    if (event.type === 'commitDone' && event.committed) {
      const a = attempts.get(event.attemptId)!;
      const snap = s.snapshot().tasks.find((t) => t.taskId === a.taskId)!;
      if (snap.committedAttempt === a.id && committed.get(a.taskId) !== a) {
        const prev = committed.get(a.taskId);
        if (prev) {
          assert.equal(a.kind, 'map', `reduce task ${a.taskId} committed twice`);
          assert.ok(replaceable(prev), `map ${a.taskId} re-committed while its output was fine`);
        }
        committed.set(a.taskId, a);
      }
    }
    // The scheduler's slot books equal the runtime's.
    if (terminal.length === 0) {
      for (const w of s.snapshot().workers) {
        const mine = [...active.values()].filter((a) => a.worker === w.workerId).map((a) => a.id);
        assert.deepEqual([...w.running].sort(), mine.sort(), `running attempts of ${w.workerId}`);
        assert.ok(w.running.length <= w.slots, `worker ${w.workerId} over its slots`);
      }
    }
  };

  const react = (d: Decision) => {
    switch (d.type) {
      case 'assign': {
        const w = d.workerId;
        assert.ok(slots.has(w), `assign to unknown worker ${w}`);
        assert.ok(!notifiedLost.has(w), `assign to lost worker ${w}`);
        assert.ok(now - lastLease.get(w)! < HEARTBEAT_TIMEOUT, `assign to expired worker ${w}`);
        const running = [...active.values()].filter((a) => a.worker === w).length;
        assert.ok(running < slots.get(w)!, `worker ${w} over its ${slots.get(w)} slots`);
        assert.equal(d.taskId, taskIdOf(d.kind, d.index));
        const a: SimAttempt = {
          id: d.attemptId,
          taskId: d.taskId,
          kind: d.kind,
          worker: w,
          inputs: [],
          killed: false,
          succeeded: false,
        };
        if (d.kind === 'reduce') {
          for (let m = 0; m < p.numMaps; m++) {
            const mapTaskId = taskIdOf('map', m);
            const out = s.mapOutput(mapTaskId) as { worker: string; attemptId: string } | undefined;
            assert.ok(out, `reduce ${d.attemptId} assigned before map ${mapTaskId} was committed`);
            a.inputs.push({ mapTaskId, mapAttemptId: out.attemptId, worker: out.worker });
          }
        }
        attempts.set(a.id, a);
        active.set(a.id, a);
        if (!alive.get(w) || silent.has(w)) return; // it will never report
        const spent = injected.get(d.taskId) ?? 0;
        const mayFail = spent < p.failureBudget;
        const r = rnd();
        const latency = rnd() < p.stragglerRate ? between(150, 350) : between(5, 40);
        const from = a.id;
        if (mayFail && r < p.hangRate) {
          injected.set(d.taskId, spent + 1);
          return; // hangs: no progress, no result
        }
        for (let t = 50; t < latency; t += 50) {
          push(now + t, {
            kind: 'event',
            event: { type: 'progress', now: now + t, attemptId: from, fraction: t / latency },
            fromAttempt: from,
          });
        }
        if (d.kind === 'reduce') push(now + 1, { kind: 'fetch', attemptId: from });
        if (mayFail && r < p.hangRate + p.failureRate) {
          injected.set(d.taskId, spent + 1);
          const error = { name: 'Error', message: `injected failure of ${from}` };
          push(now + latency, {
            kind: 'event',
            event: { type: 'attemptFailed', now: now + latency, attemptId: from, error },
            fromAttempt: from,
          });
        } else {
          const output = d.kind === 'map' ? { worker: w, attemptId: from } : undefined;
          push(now + latency, {
            kind: 'event',
            event: { type: 'attemptSucceeded', now: now + latency, attemptId: from, output },
            fromAttempt: from,
          });
        }
        return;
      }
      case 'kill': {
        const a = active.get(d.attemptId);
        assert.ok(a, `kill of ${d.attemptId}, which is not running`);
        assert.equal(a.worker, d.workerId);
        active.delete(d.attemptId);
        a.killed = true;
        return;
      }
      case 'commit': {
        const a = attempts.get(d.attemptId);
        assert.ok(a?.succeeded, `commit of ${d.attemptId}, which did not succeed`);
        assert.ok(!a.killed, `commit of killed ${d.attemptId}`);
        const inFlight = commitInFlight.get(d.taskId);
        if (inFlight !== undefined) {
          // Only a map commit abandoned because its worker died may be replaced.
          assert.equal(d.kind, 'map', `two commits in flight for ${d.taskId}`);
          assert.equal(
            alive.get(attempts.get(inFlight)!.worker),
            false,
            `two commits in flight for ${d.taskId}`,
          );
        }
        const prev = committed.get(d.taskId);
        if (prev) {
          assert.equal(d.kind, 'map', `second commit of reduce ${d.taskId}`);
          assert.ok(replaceable(prev), `second commit of ${d.taskId} while its output is fine`);
        }
        commitInFlight.set(d.taskId, d.attemptId);
        const ok = rnd() >= p.refuseRate;
        const at = now + between(0, 5);
        push(at, {
          kind: 'event',
          event: { type: 'commitDone', now: at, attemptId: d.attemptId, committed: ok },
        });
        return;
      }
      case 'jobSucceeded':
      case 'jobFailed':
        terminal.push(d);
        return;
    }
  };

  // Initial workers, later joins, deaths, periodic heartbeats and ticks, cancel.
  const joinedAt = new Map<string, number>();
  const join = (name: string, n: number, at: number) => {
    joinedAt.set(name, at);
    slots.set(name, n);
    alive.set(name, true);
    push(at, { kind: 'event', event: { type: 'workerJoined', now: at, workerId: name, slots: n } });
    push(at + HEARTBEAT_EVERY, { kind: 'heartbeat', worker: name });
  };
  p.workers.forEach((n, i) => join(`w${i}`, n, 0));
  p.joins.forEach((j, i) => join(`j${i}`, j.slots, j.at));
  for (const d of p.deaths) {
    const name = d.worker < p.workers.length ? `w${d.worker}` : `j${d.worker - p.workers.length}`;
    const after = joinedAt.get(name);
    if (name !== 'w0' && after !== undefined) {
      push(Math.max(d.at, after + 1), { kind: 'die', worker: name, silent: d.silent });
    }
  }
  push(TICK_EVERY, { kind: 'tick' });
  if (p.cancelAt !== undefined)
    push(p.cancelAt, { kind: 'event', event: { type: 'cancel', now: p.cancelAt, reason: 'test' } });

  let steps = 0;
  while (queue.length > 0) {
    assert.ok(++steps < 200_000, 'too many steps');
    const { at, action } = queue.shift()!;
    now = at;
    if (terminal.length === 0) assert.ok(now < TIME_LIMIT, 'the job did not end');
    switch (action.kind) {
      case 'tick':
        if (terminal.length > 0) break;
        deliver({ type: 'tick', now });
        push(now + TICK_EVERY, { kind: 'tick' });
        break;
      case 'heartbeat':
        if (terminal.length > 0 || !alive.get(action.worker)) break;
        deliver({ type: 'heartbeat', now, workerId: action.worker });
        push(now + HEARTBEAT_EVERY, { kind: 'heartbeat', worker: action.worker });
        break;
      case 'die':
        if (!alive.get(action.worker)) break;
        alive.set(action.worker, false);
        if (action.silent) silent.add(action.worker);
        else deliver({ type: 'workerLost', now, workerId: action.worker });
        break;
      case 'fetch': {
        const a = attempts.get(action.attemptId)!;
        if (a.killed || !alive.get(a.worker)) break;
        const dead = a.inputs.filter((i) => !alive.get(i.worker) || rnd() < p.fetchFlakeRate);
        if (dead.length === 0) break;
        // Expiries first, so that the reduce attempts running below are the scheduler's.
        deliver({ type: 'tick', now });
        if (terminal.length > 0 || !active.has(a.id)) break;
        const running = Math.max(1, [...active.values()].filter((x) => x.kind === 'reduce').length);
        const limit = Math.max(Math.min(3, running), Math.ceil(running / 2));
        // Cannot read some inputs: report each, then fail; drop the attempt's other reports.
        a.killed = true;
        for (const i of dead) {
          const reports = (fetchReports.get(i.mapAttemptId) ?? 0) + 1;
          fetchReports.set(i.mapAttemptId, reports);
          if (reports >= limit) unreadable.add(i.mapAttemptId);
          deliver({
            type: 'fetchFailed',
            now,
            mapTaskId: i.mapTaskId,
            reduceAttemptId: a.id,
            mapAttemptId: i.mapAttemptId,
          });
        }
        deliver({
          type: 'attemptFailed',
          now,
          attemptId: a.id,
          error: { name: 'Error', message: 'fetch failed' },
        });
        break;
      }
      case 'event': {
        const ev = action.event;
        const from = action.fromAttempt ? attempts.get(action.fromAttempt) : undefined;
        if (from && (from.killed || !alive.get(from.worker))) {
          // A killed attempt or a dead worker mostly stays silent, but sometimes a report arrives late
          // (a dead worker's only once its lease is over: until then it would be a genuine report).
          if (ev.type === 'progress') break;
          const leaseOver =
            notifiedLost.has(from.worker) || now - (lastLease.get(from.worker) ?? 0) >= HEARTBEAT_TIMEOUT;
          if (!alive.get(from.worker) && !leaseOver) break;
          if (rnd() >= p.lateRate) break;
        }
        deliver({ ...ev, now });
        if (
          (ev.type === 'attemptSucceeded' || ev.type === 'attemptFailed' || ev.type === 'commitDone') &&
          rnd() < p.dupRate
        ) {
          const at = now + between(1, 50);
          push(at, { kind: 'event', event: { ...ev, now: at } });
        }
        break;
      }
    }
  }
  assert.equal(terminal.length, 1, 'exactly one of jobSucceeded / jobFailed');
  if (terminal[0]!.type === 'jobSucceeded') {
    const snap = s.snapshot();
    const history = s.attempts();
    for (const t of snap.tasks) {
      const winners = history.filter((a) => a.taskId === t.taskId && a.status === 'committed');
      assert.equal(winners.length, 1, `task ${t.taskId}: exactly one committed attempt`);
      assert.equal(t.committedAttempt, winners[0]!.attemptId);
      assert.equal(committed.get(t.taskId)?.id, t.committedAttempt, `task ${t.taskId}: the runtime agrees`);
    }
    assert.equal(snap.counts.map.committed + snap.counts.reduce.committed, p.numMaps + p.numReduces);
  }
  return { terminal, scheduler: s };
}

const time = fc.integer({ min: 1, max: 400 });
const rate = (max: number) => fc.integer({ min: 0, max: Math.round(max * 100) }).map((n) => n / 100);

function params(transient: boolean): fc.Arbitrary<Params> {
  return fc
    .record({
      numMaps: fc.integer({ min: 0, max: 10 }),
      numReduces: fc.integer({ min: 0, max: 5 }),
      maxAttempts: transient ? fc.constant(4) : fc.integer({ min: 1, max: 5 }),
      maxWorkerFailures: transient
        ? fc.constant(Number.POSITIVE_INFINITY)
        : fc.constantFrom(1, 2, 3, Number.POSITIVE_INFINITY),
      workers: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 4 }),
      joins: fc.array(fc.record({ at: time, slots: fc.integer({ min: 0, max: 3 }) }), { maxLength: 2 }),
      deaths: fc.array(
        fc.record({ worker: fc.integer({ min: 0, max: 5 }), at: time, silent: fc.boolean() }),
        { maxLength: transient ? 3 : 4 },
      ),
      failureRate: rate(transient ? 0.5 : 0.4),
      hangRate: rate(0.1),
      stragglerRate: rate(0.3),
      dupRate: rate(0.3),
      lateRate: rate(0.5),
      refuseRate: transient ? fc.constant(0) : rate(0.05),
      fetchFlakeRate: transient ? fc.constant(0) : rate(0.3),
      speculation: fc.boolean(),
      cancelAt: transient
        ? fc.constant(undefined)
        : fc.oneof({ arbitrary: fc.constant(undefined), weight: 4 }, { arbitrary: time, weight: 1 }),
      // Each task may fail (throw or hang) at most maxAttempts - 2 times; one more failure can come
      // from fetch failures charged to a map whose worker died silently (at most one such death).
      failureBudget: fc.constant(transient ? 2 : Infinity),
      seed: fc.integer(),
    })
    .map((p) => {
      if (!transient) return p;
      let silentSeen = false;
      const deaths = p.deaths.map((d) => {
        const silentOk = d.silent && !silentSeen;
        if (silentOk) silentSeen = true;
        return { ...d, silent: silentOk };
      });
      return { ...p, deaths };
    });
}

test('random simulations end in exactly one verdict, with sound commits, slots and placements', () => {
  let succeeded = 0;
  let failed = 0;
  let excludedButSucceeded = 0;
  let allExcluded = 0;
  fc.assert(
    fc.property(params(false), (p) => {
      const { terminal, scheduler } = simulate(p);
      const end = terminal[0]!;
      if (end.type === 'jobSucceeded') succeeded++;
      else failed++;
      if (end.type === 'jobFailed' && /every live worker is excluded/.test(end.error.message)) allExcluded++;
      if (end.type === 'jobSucceeded' && scheduler.snapshot().workers.some((w) => w.excluded))
        excludedButSucceeded++;
    }),
    { numRuns: 300 },
  );
  assert.ok(succeeded > 0 && failed > 0, `both verdicts were seen (${succeeded}/${failed})`);
  assert.ok(allExcluded > 0, 'some job failed with every worker excluded');
  assert.ok(excludedButSucceeded > 0, 'some job succeeded with a worker excluded');
});

test('with transient failures and a worker that stays, every job succeeds', () => {
  let speculative = 0;
  let reexecuted = 0;
  fc.assert(
    fc.property(params(true), (p) => {
      const { terminal, scheduler } = simulate(p);
      assert.equal(terminal[0]!.type, 'jobSucceeded', JSON.stringify(terminal[0]));
      const st = scheduler.snapshot().stats;
      speculative += st.speculativeAttempts;
      reexecuted += st.reexecutedMaps;
    }),
    { numRuns: 300 },
  );
  assert.ok(speculative > 0, 'some backups ran');
  assert.ok(reexecuted > 0, 'some maps were re-executed');
});

test('the same events give the same decisions', () => {
  fc.assert(
    fc.property(params(false), (p) => {
      const a = simulate(p).scheduler;
      const b = simulate(p).scheduler;
      assert.deepEqual(a.attempts(), b.attempts());
      assert.deepEqual(a.snapshot(), b.snapshot());
    }),
    { numRuns: 50 },
  );
});

test('parseAttemptId round-trips', () => {
  fc.assert(
    fc.property(
      fc.constantFrom<TaskKind>('map', 'reduce'),
      fc.nat(99_999),
      fc.nat(50),
      (kind, index, attempt) => {
        const taskId = taskIdOf(kind, index);
        assert.deepEqual(parseAttemptId(`${taskId}_${attempt}`), { taskId, kind, index, attempt });
      },
    ),
  );
});
