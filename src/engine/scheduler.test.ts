import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SerializedError } from '../errors.ts';
import { attemptIdOf, parseAttemptId, Scheduler, taskIdOf } from './scheduler.ts';
import type { Decision, SchedulerConfig } from './scheduler.ts';

const boom: SerializedError = { name: 'Error', message: 'boom' };

/** A scheduler with workers joined at t=0 (in order), and the decisions that produced. */
function start(config: SchedulerConfig, workers: [string, number][]): { s: Scheduler; ds: Decision[] } {
  const s = new Scheduler(config);
  const ds: Decision[] = [];
  for (const [workerId, slots] of workers)
    ds.push(...s.handle({ type: 'workerJoined', now: 0, workerId, slots }));
  return { s, ds };
}

function assigned(ds: Decision[]): string[] {
  return ds.flatMap((d) => (d.type === 'assign' ? [`${d.attemptId}@${d.workerId}`] : []));
}

function types(ds: Decision[]): string[] {
  return ds.map((d) => d.type);
}

/** attemptSucceeded then commitDone(true); returns the decisions of both. */
function finish(s: Scheduler, attemptId: string, now: number, output?: unknown): Decision[] {
  const first = s.handle({ type: 'attemptSucceeded', now, attemptId, output });
  assert.deepEqual(
    first.filter((d) => d.type === 'commit'),
    [
      {
        type: 'commit',
        attemptId,
        taskId: parseAttemptId(attemptId)!.taskId,
        kind: parseAttemptId(attemptId)!.kind,
      },
    ],
  );
  return [...first, ...s.handle({ type: 'commitDone', now, attemptId, committed: true })];
}

describe('ids and config', () => {
  test('task and attempt ids', () => {
    assert.equal(taskIdOf('map', 3), 'm-00003');
    assert.equal(taskIdOf('reduce', 1), 'r-00001');
    assert.equal(attemptIdOf('m-00003', 0), 'm-00003_0');
    assert.deepEqual(parseAttemptId('r-00012_3'), {
      taskId: 'r-00012',
      kind: 'reduce',
      index: 12,
      attempt: 3,
    });
    assert.equal(parseAttemptId('x-1_0'), undefined);
  });

  test('defaults and validation', () => {
    const s = new Scheduler({ numMaps: 1, numReduces: 1 });
    assert.equal(s.config.maxAttempts, 4);
    assert.equal(s.config.taskTimeoutMs, 600_000);
    assert.equal(s.config.heartbeatTimeoutMs, 10_000);
    assert.equal(s.config.speculation, false);
    assert.throws(() => new Scheduler({ numMaps: 1, numReduces: 1, maxAttempts: 0 }), { code: 'TSMR_USAGE' });
    assert.throws(() => new Scheduler({ numMaps: -1, numReduces: 1 }), { code: 'TSMR_USAGE' });
    assert.throws(() => new Scheduler({ numMaps: 1, numReduces: 1, taskTimeoutMs: 0 }), {
      code: 'TSMR_USAGE',
    });
    assert.throws(() => s.handle({ type: 'workerJoined', now: 0, workerId: 'w', slots: 1.5 }), {
      code: 'TSMR_INTERNAL',
    });
  });
});

describe('happy path', () => {
  test('maps, then reduces spread over workers, then jobSucceeded once', () => {
    const { s, ds } = start({ numMaps: 3, numReduces: 4 }, [
      ['w1', 2],
      ['w2', 2],
    ]);
    assert.deepEqual(assigned(ds), ['m-00000_0@w1', 'm-00001_0@w1', 'm-00002_0@w2']);
    assert.equal(s.snapshot().counts.map.running, 3);

    assert.deepEqual(assigned(finish(s, 'm-00000_0', 10, { at: 'w1', i: 0 })), []);
    assert.deepEqual(assigned(finish(s, 'm-00002_0', 11, { at: 'w2', i: 2 })), []);
    // Free slots exist, but reduces wait for the last map commit (no slow start).
    assert.deepEqual(assigned(s.handle({ type: 'attemptSucceeded', now: 12, attemptId: 'm-00001_0' })), []);
    assert.equal(s.snapshot().tasks[1]!.state, 'committing');
    const r = s.handle({ type: 'commitDone', now: 13, attemptId: 'm-00001_0', committed: true });
    // Most free slots first, ties to the earliest joined: w1 w2 w1 w2.
    assert.deepEqual(assigned(r), ['r-00000_0@w1', 'r-00001_0@w2', 'r-00002_0@w1', 'r-00003_0@w2']);
    assert.deepEqual(s.mapOutput('m-00002'), { at: 'w2', i: 2 });
    assert.equal(s.mapOutputs().length, 3);
    assert.equal(s.snapshot().phase, 'reduce');

    for (let i = 0; i < 3; i++) assert.deepEqual(types(finish(s, `r-0000${i}_0`, 20 + i)), ['commit']);
    assert.deepEqual(types(finish(s, 'r-00003_0', 30)), ['commit', 'jobSucceeded']);
    assert.deepEqual(s.handle({ type: 'tick', now: 40 }), []);

    const snap = s.snapshot();
    assert.equal(snap.status, 'succeeded');
    assert.deepEqual(snap.counts.map, { total: 3, pending: 0, running: 0, committing: 0, committed: 3 });
    assert.deepEqual(snap.counts.reduce, { total: 4, pending: 0, running: 0, committing: 0, committed: 4 });
    assert.equal(snap.stats.attemptsStarted, 7);
    assert.equal(snap.stats.lateEvents, 1);
    const history = s.attempts();
    assert.equal(history.length, 7);
    assert.ok(history.every((a) => a.status === 'committed' && a.finishedAt !== undefined));
    assert.deepEqual(s.attempt('r-00003_0')?.worker, 'w2');
  });

  test('map-only and empty jobs', () => {
    const { s, ds } = start({ numMaps: 1, numReduces: 0 }, [['w', 1]]);
    assert.deepEqual(assigned(ds), ['m-00000_0@w']);
    assert.deepEqual(types(finish(s, 'm-00000_0', 5)), ['commit', 'jobSucceeded']);
    const empty = new Scheduler({ numMaps: 0, numReduces: 0 });
    assert.deepEqual(empty.handle({ type: 'tick', now: 0 }), [{ type: 'jobSucceeded' }]);
  });

  test('never more attempts than slots; a 0-slot worker gets nothing', () => {
    const { s, ds } = start({ numMaps: 5, numReduces: 1 }, [
      ['none', 0],
      ['w', 2],
    ]);
    assert.deepEqual(assigned(ds), ['m-00000_0@w', 'm-00001_0@w']);
    assert.deepEqual(
      assigned(s.handle({ type: 'attemptFailed', now: 1, attemptId: 'm-00000_0', error: boom })),
      ['m-00000_1@w'],
    );
  });
});

describe('retries', () => {
  test('a failed attempt is retried on another worker, up to maxAttempts, then the job fails', () => {
    const { s, ds: first } = start({ numMaps: 1, numReduces: 1, maxAttempts: 3 }, [
      ['w1', 1],
      ['w2', 1],
    ]);
    assert.deepEqual(assigned(first), ['m-00000_0@w1']);
    let ds = s.handle({ type: 'attemptFailed', now: 5, attemptId: 'm-00000_0', error: boom });
    assert.deepEqual(assigned(ds), ['m-00000_1@w2']); // w1 is as free, but m0 failed there
    ds = s.handle({ type: 'attemptFailed', now: 7, attemptId: 'm-00000_1', error: boom });
    assert.deepEqual(assigned(ds), ['m-00000_2@w1']); // failed on both: most free, earliest joined
    assert.equal(s.snapshot().tasks[0]!.failures, 2);
    const last: SerializedError = { name: 'TsmrError', code: 'TSMR_USER_CODE', message: 'map threw: bad' };
    ds = s.handle({ type: 'attemptFailed', now: 8, attemptId: 'm-00000_2', error: last });
    assert.deepEqual(ds, [
      {
        type: 'jobFailed',
        error: {
          name: 'TsmrError',
          code: 'TSMR_TASK_FAILED',
          message: 'task m-00000 failed 3 times; last error: map threw: bad',
          details: { taskId: 'm-00000', attempt: 2 },
          cause: last,
        },
      },
    ]);
    assert.equal(s.status, 'failed');
    assert.deepEqual(
      s.attempts().map((a) => a.status),
      ['failed', 'failed', 'failed'],
    );
    assert.equal(s.attempts()[0]!.error, boom);
  });

  test('jobFailed kills the other running attempts', () => {
    const { s } = start({ numMaps: 3, numReduces: 1, maxAttempts: 1 }, [['w', 3]]);
    const ds = s.handle({ type: 'attemptFailed', now: 1, attemptId: 'm-00001_0', error: boom });
    assert.deepEqual(types(ds), ['kill', 'kill', 'jobFailed']);
    assert.deepEqual(
      ds.flatMap((d) => (d.type === 'kill' ? [d.attemptId] : [])),
      ['m-00000_0', 'm-00002_0'],
    );
    assert.deepEqual(s.handle({ type: 'attemptSucceeded', now: 2, attemptId: 'm-00000_0' }), []);
  });

  test("retriable: false fails the job at once, with the error's own code", () => {
    const { s } = start({ numMaps: 1, numReduces: 1 }, [['w', 1]]);
    const usage: SerializedError = { name: 'TsmrError', code: 'TSMR_USAGE', message: 'bad param' };
    const [d] = s.handle({
      type: 'attemptFailed',
      now: 1,
      attemptId: 'm-00000_0',
      error: usage,
      retriable: false,
    });
    assert.equal(d?.type, 'jobFailed');
    assert.equal(d.type === 'jobFailed' && d.error.code, 'TSMR_USAGE');
    assert.match(
      d.type === 'jobFailed' ? d.error.message : '',
      /m-00000 attempt 0 .*retry cannot fix: bad param/,
    );
    assert.equal(d.type === 'jobFailed' && d.error.cause, usage);
    assert.equal(s.stats().failedAttempts, 1);

    const other = start({ numMaps: 1, numReduces: 1 }, [['w', 1]]).s;
    const plain: SerializedError = { name: 'Error', code: 'ENOENT', message: 'gone' };
    const [e] = other.handle({
      type: 'attemptFailed',
      now: 1,
      attemptId: 'm-00000_0',
      error: plain,
      retriable: false,
    });
    assert.equal(e?.type === 'jobFailed' && e.error.code, 'TSMR_TASK_FAILED');
  });

  test('counted: false retries without charging maxAttempts; counted failures still end the job', () => {
    const { s } = start({ numMaps: 1, numReduces: 0, maxAttempts: 2 }, [['w', 1]]);
    // Five failures that skip mode makes different: each retried, none counted.
    for (let attempt = 0; attempt < 5; attempt++) {
      const ds = s.handle({
        type: 'attemptFailed',
        now: attempt + 1,
        attemptId: `m-00000_${attempt}`,
        error: boom,
        counted: false,
      });
      assert.deepEqual(assigned(ds), [`m-00000_${attempt + 1}@w`]);
    }
    assert.equal(s.stats().failedAttempts, 0);
    assert.equal(s.stats().killedAttempts, 5);
    assert.equal(s.snapshot().tasks[0]!.failures, 0);
    const history = s.attempts().filter((a) => a.attempt < 5);
    assert.ok(history.every((a) => a.status === 'failed' && a.error === boom));
    // A retriable: false failure is not made retriable by counted: false.
    const fatal = s.handle({
      type: 'attemptFailed',
      now: 10,
      attemptId: 'm-00000_5',
      error: boom,
      retriable: false,
      counted: false,
    });
    assert.deepEqual(types(fatal), ['jobFailed']);
  });
});

describe('worker exclusion', () => {
  /** Fails `attemptId` with `boom`; returns the assignments that follow. */
  const fail = (s: Scheduler, attemptId: string, now: number) =>
    assigned(s.handle({ type: 'attemptFailed', now, attemptId, error: boom }));

  test('a worker that failed maxWorkerFailures attempts of the job gets no more of its tasks', () => {
    const { s, ds } = start({ numMaps: 6, numReduces: 0 }, [
      ['bad', 1],
      ['good', 1],
    ]);
    assert.equal(s.config.maxWorkerFailures, 3);
    assert.deepEqual(assigned(ds), ['m-00000_0@bad', 'm-00001_0@good']);
    // Lowest task first: m0 goes back to the only free slot, although it failed there.
    assert.deepEqual(fail(s, 'm-00000_0', 1), ['m-00000_1@bad']);
    assert.deepEqual(fail(s, 'm-00000_1', 2), ['m-00000_2@bad']);
    const view = () => s.snapshot().workers.map((w) => [w.workerId, w.failedAttempts, w.excluded]);
    assert.deepEqual(view(), [
      ['bad', 2, false],
      ['good', 0, false],
    ]);
    // The third failure excludes it: its free slot stays empty although tasks are pending.
    assert.deepEqual(fail(s, 'm-00000_2', 3), []);
    assert.deepEqual(view(), [
      ['bad', 3, true],
      ['good', 0, false],
    ]);
    let next = assigned(finish(s, 'm-00001_0', 4));
    for (let now = 5; next.length > 0; now++) {
      assert.ok(
        next.every((a) => a.endsWith('@good')),
        String(next),
      );
      next = assigned(finish(s, next[0]!.split('@')[0]!, now));
    }
    assert.equal(s.status, 'succeeded');
    // Without exclusion every other task would have failed once on it too.
    assert.deepEqual(
      s.snapshot().tasks.map((t) => t.failures),
      [3, 0, 0, 0, 0, 0],
    );
  });

  test('kills, lost workers, uncounted failures and fetch failures are not charged to a worker', () => {
    const { s } = start({ numMaps: 2, numReduces: 1, maxWorkerFailures: 1, heartbeatTimeoutMs: 100 }, [
      ['w1', 1],
      ['w2', 1],
    ]);
    const charged = () => s.snapshot().workers.map((w) => w.failedAttempts);
    // Skip mode's uncounted failure.
    s.handle({ type: 'attemptFailed', now: 1, attemptId: 'm-00000_0', error: boom, counted: false });
    // w2 lost: its attempt is killed.
    s.handle({ type: 'workerLost', now: 2, workerId: 'w2' });
    s.handle({ type: 'workerJoined', now: 3, workerId: 'w2', slots: 1 });
    assert.deepEqual(charged(), [0, 0]);
    for (const a of s.snapshot().tasks.flatMap((t) => (t.state === 'running' ? [t.attempts.at(-1)!] : [])))
      finish(s, a, 4, `${a}@out`);
    assert.equal(s.snapshot().phase, 'reduce');
    const [reduce] = s.snapshot().tasks[2]!.attempts;
    // The reducer reports a fetch failure (the map is re-run) and fails: neither worker is charged.
    s.handle({ type: 'fetchFailed', now: 5, mapTaskId: 'm-00000', reduceAttemptId: reduce! });
    s.handle({ type: 'attemptFailed', now: 6, attemptId: reduce!, error: boom });
    assert.equal(s.stats().reexecutedMaps, 1);
    assert.deepEqual(charged(), [0, 0]);
    assert.ok(s.snapshot().workers.every((w) => !w.excluded));
  });

  test('when every live worker is excluded the job fails saying so, with the last failure as cause', () => {
    const { s } = start({ numMaps: 3, numReduces: 1, maxWorkerFailures: 1, maxAttempts: 10 }, [
      ['w1', 1],
      ['w2', 1],
      ['idle', 0],
    ]);
    assert.deepEqual(fail(s, 'm-00000_0', 1), []); // w1 is excluded, w2 busy
    assert.equal(s.status, 'running'); // w2 may still take it
    const last: SerializedError = { name: 'Error', message: 'disk full' };
    const ds = s.handle({ type: 'attemptFailed', now: 2, attemptId: 'm-00001_0', error: last });
    assert.equal(s.status, 'failed');
    const end = ds.at(-1)!;
    assert.equal(end.type, 'jobFailed');
    assert.deepEqual(end.type === 'jobFailed' && end.error, {
      name: 'TsmrError',
      code: 'TSMR_TASK_FAILED',
      message:
        'no worker may run task m-00000: every live worker is excluded from this job after 1 failed ' +
        'attempts on it (failed attempts: w1 (1), w2 (1)); fix the workers or the job, or add workers',
      details: { taskId: 'm-00000', workers: ['w1', 'w2'] },
      cause: last,
    });
  });

  test('while no live worker is left the job waits; a worker that joins takes the tasks', () => {
    const { s } = start({ numMaps: 1, numReduces: 0, maxWorkerFailures: 1 }, [['w1', 1]]);
    s.handle({ type: 'workerLost', now: 1, workerId: 'w1' });
    assert.equal(s.status, 'running');
    assert.deepEqual(assigned(s.handle({ type: 'workerJoined', now: 2, workerId: 'w2', slots: 1 })), [
      'm-00000_1@w2',
    ]);
  });

  test('maxWorkerFailures: Infinity turns exclusion off (local mode); other values must be integers >= 1', () => {
    const { s } = start({ numMaps: 1, numReduces: 0, maxWorkerFailures: Infinity, maxAttempts: 10 }, [
      ['local', 1],
    ]);
    for (let i = 0; i < 5; i++) assert.deepEqual(fail(s, `m-00000_${i}`, i + 1), [`m-00000_${i + 1}@local`]);
    assert.deepEqual(
      s.snapshot().workers.map((w) => [w.failedAttempts, w.excluded]),
      [[5, false]],
    );
    for (const maxWorkerFailures of [0, 1.5, Number.NaN])
      assert.throws(() => new Scheduler({ numMaps: 1, numReduces: 0, maxWorkerFailures }), {
        code: 'TSMR_USAGE',
      });
  });
});

describe('duplicate and late completions', () => {
  test('one commit in flight per task; a waiting success becomes a duplicate', () => {
    const { s } = start({ numMaps: 1, numReduces: 1 }, [['w', 1]]);
    s.handle({ type: 'attemptFailed', now: 1, attemptId: 'm-00000_0', error: boom });
    assert.deepEqual(types(s.handle({ type: 'attemptSucceeded', now: 2, attemptId: 'm-00000_1' })), [
      'commit',
    ]);
    // Late events for the failed attempt: ignored.
    assert.deepEqual(s.handle({ type: 'attemptSucceeded', now: 3, attemptId: 'm-00000_0' }), []);
    assert.deepEqual(s.handle({ type: 'attemptSucceeded', now: 3, attemptId: 'm-00000_1' }), []);
    assert.deepEqual(s.handle({ type: 'attemptSucceeded', now: 3, attemptId: 'm-00009_0' }), []);
    const ds = s.handle({ type: 'commitDone', now: 4, attemptId: 'm-00000_1', committed: true });
    assert.deepEqual(assigned(ds), ['r-00000_0@w']);
    // Commit confirmations and outcomes after the commit: ignored, never a second commit.
    assert.deepEqual(s.handle({ type: 'commitDone', now: 5, attemptId: 'm-00000_1', committed: true }), []);
    assert.deepEqual(s.handle({ type: 'attemptFailed', now: 5, attemptId: 'm-00000_1', error: boom }), []);
    const st = s.snapshot().stats;
    assert.equal(st.lateEvents, 4);
    assert.equal(st.duplicateCompletions, 1);
  });

  test('a second success while committing waits, then is a duplicate; a refused commit tries the next', () => {
    // A speculative backup gives m0 two attempts that can both succeed.
    const t = start({ numMaps: 2, numReduces: 0, speculation: true, speculationMinRuntimeMs: 100 }, [
      ['w1', 1],
      ['w2', 1],
    ]).s;
    finish(t, 'm-00001_0', 10);
    assert.deepEqual(assigned(t.handle({ type: 'tick', now: 1000 })), ['m-00000_1@w2']);
    assert.deepEqual(types(t.handle({ type: 'attemptSucceeded', now: 1001, attemptId: 'm-00000_1' })), [
      'commit',
    ]);
    assert.deepEqual(t.handle({ type: 'attemptSucceeded', now: 1002, attemptId: 'm-00000_0' }), []);
    // The commit was refused: the waiting success is committed next.
    let ds = t.handle({ type: 'commitDone', now: 1003, attemptId: 'm-00000_1', committed: false });
    assert.deepEqual(ds, [
      { type: 'discard', attemptId: 'm-00000_1', workerId: 'w2', kind: 'map' },
      { type: 'commit', attemptId: 'm-00000_0', taskId: 'm-00000', kind: 'map' },
    ]);
    ds = t.handle({ type: 'commitDone', now: 1004, attemptId: 'm-00000_0', committed: true });
    assert.deepEqual(types(ds), ['jobSucceeded']);
    assert.deepEqual(
      t.attempts().map((a) => [a.attemptId, a.status]),
      [
        ['m-00000_0', 'committed'],
        ['m-00001_0', 'committed'],
        ['m-00000_1', 'duplicate'],
      ],
    );
    assert.equal(t.snapshot().tasks[0]!.failures, 1);
  });
});

describe('discard decisions', () => {
  test('a success that will never be committed is discarded: the loser of a race, one on a lost worker', () => {
    const t = start({ numMaps: 2, numReduces: 1, speculation: true, speculationMinRuntimeMs: 100 }, [
      ['w1', 1],
      ['w2', 1],
    ]).s;
    finish(t, 'm-00001_0', 10);
    assert.deepEqual(assigned(t.handle({ type: 'tick', now: 1000 })), ['m-00000_1@w2']);
    assert.deepEqual(types(t.handle({ type: 'attemptSucceeded', now: 1001, attemptId: 'm-00000_1' })), [
      'commit',
    ]);
    // m-00000_0 succeeds while m-00000_1 commits: it waits, then is discarded when the other commits.
    assert.deepEqual(t.handle({ type: 'attemptSucceeded', now: 1002, attemptId: 'm-00000_0' }), []);
    const ds = t.handle({ type: 'commitDone', now: 1003, attemptId: 'm-00000_1', committed: true });
    assert.deepEqual(
      ds.filter((d) => d.type === 'discard'),
      [{ type: 'discard', attemptId: 'm-00000_0', workerId: 'w1', kind: 'map' }],
    );
    // Running attempts get kill, never discard.
    assert.ok(!ds.some((d) => d.type === 'discard' && d.attemptId.startsWith('r-')));
  });

  test('a map success on a worker lost before its commit is discarded', () => {
    const { s } = start({ numMaps: 1, numReduces: 1 }, [['w1', 1]]);
    assert.deepEqual(types(s.handle({ type: 'attemptSucceeded', now: 1, attemptId: 'm-00000_0' })), [
      'commit',
    ]);
    const ds = s.handle({ type: 'workerLost', now: 2, workerId: 'w1' });
    assert.deepEqual(ds, [{ type: 'discard', attemptId: 'm-00000_0', workerId: 'w1', kind: 'map' }]);
  });
});

describe('timeouts', () => {
  test('an attempt without progress for taskTimeoutMs is killed and retried, counted as failed', () => {
    const { s } = start({ numMaps: 1, numReduces: 1, taskTimeoutMs: 1000, heartbeatTimeoutMs: Infinity }, [
      ['w', 1],
    ]);
    s.handle({ type: 'progress', now: 500, attemptId: 'm-00000_0', fraction: 0.2 });
    assert.deepEqual(s.handle({ type: 'tick', now: 1499 }), []);
    const ds = s.handle({ type: 'tick', now: 1500 });
    assert.equal(ds[0]?.type, 'kill');
    assert.deepEqual(assigned(ds), ['m-00000_1@w']);
    const [a0] = s.attempts();
    assert.equal(a0!.status, 'failed');
    assert.equal(a0!.error?.code, 'TSMR_TASK_TIMEOUT');
    assert.equal(a0!.finishedAt, 1500);
    assert.equal(s.snapshot().tasks[0]!.failures, 1);
    assert.equal(s.snapshot().stats.timedOutAttempts, 1);
    // The killed attempt's late success is ignored.
    assert.deepEqual(s.handle({ type: 'attemptSucceeded', now: 1501, attemptId: 'm-00000_0' }), []);
  });

  test('a worker without heartbeat is lost: its attempts are killed and reassigned, not counted', () => {
    const { s } = start({ numMaps: 2, numReduces: 1, heartbeatTimeoutMs: 100 }, [
      ['w1', 1],
      ['w2', 1],
    ]);
    s.handle({ type: 'heartbeat', now: 60, workerId: 'w1' });
    finish(s, 'm-00000_0', 70);
    assert.deepEqual(s.handle({ type: 'heartbeat', now: 99, workerId: 'w2' }), []);
    s.handle({ type: 'heartbeat', now: 150, workerId: 'w1' });
    const ds = s.handle({ type: 'tick', now: 199 });
    assert.deepEqual(ds, [
      {
        type: 'kill',
        attemptId: 'm-00001_0',
        workerId: 'w2',
        reason: 'worker w2 lost: no heartbeat for 100 ms',
      },
      {
        type: 'assign',
        attemptId: 'm-00001_1',
        taskId: 'm-00001',
        kind: 'map',
        index: 1,
        attempt: 1,
        workerId: 'w1',
        speculative: false,
      },
    ]);
    assert.equal(s.snapshot().tasks[1]!.failures, 0);
    assert.equal(s.snapshot().workers[1]!.alive, false);
    // Its heartbeat now is too late; it must join again.
    s.handle({ type: 'heartbeat', now: 200, workerId: 'w2' });
    assert.equal(s.snapshot().stats.lateEvents, 1);
  });
});

describe('worker loss', () => {
  test('committed map outputs of a lost worker are re-executed while reduces need them', () => {
    const { s } = start({ numMaps: 2, numReduces: 2 }, [
      ['w1', 1],
      ['w2', 1],
    ]);
    finish(s, 'm-00000_0', 10, 'out0@w1');
    const r = finish(s, 'm-00001_0', 11, 'out1@w2');
    assert.deepEqual(assigned(r), ['r-00000_0@w1', 'r-00001_0@w2']);
    // w2 dies: r1 killed (not counted), m1's output is gone.
    assert.deepEqual(s.handle({ type: 'workerLost', now: 20, workerId: 'w2' }), []);
    let snap = s.snapshot();
    assert.equal(snap.tasks[1]!.state, 'pending');
    assert.equal(s.mapOutput('m-00001'), undefined);
    assert.equal(snap.stats.reexecutedMaps, 1);
    // r0 finishes; the free slot goes to the map first, r1 waits for it.
    let ds = finish(s, 'r-00000_0', 30);
    assert.deepEqual(assigned(ds), ['m-00001_1@w1']);
    ds = finish(s, 'm-00001_1', 40, 'out1@w1');
    assert.deepEqual(assigned(ds), ['r-00001_1@w1']);
    assert.equal(s.mapOutput('m-00001'), 'out1@w1');
    assert.deepEqual(types(finish(s, 'r-00001_1', 50)), ['commit', 'jobSucceeded']);
    snap = s.snapshot();
    assert.ok(snap.tasks.every((t) => t.failures === 0));
    assert.deepEqual(
      s.attempts().map((a) => [a.attemptId, a.status, a.state]),
      [
        ['m-00000_0', 'committed', 'committed'],
        ['m-00001_0', 'killed', 'lost'],
        ['r-00000_0', 'committed', 'committed'],
        ['r-00001_0', 'killed', 'killed'],
        ['m-00001_1', 'committed', 'committed'],
        ['r-00001_1', 'committed', 'committed'],
      ],
    );
    // A worker that comes back is a fresh worker.
    assert.deepEqual(s.handle({ type: 'workerJoined', now: 60, workerId: 'w2', slots: 1 }), []);
  });

  test('if the last reduce commits while a lost map is re-running, the old output stays committed', () => {
    const { s } = start({ numMaps: 2, numReduces: 1 }, [
      ['w1', 1],
      ['w2', 1],
    ]);
    finish(s, 'm-00000_0', 10);
    finish(s, 'm-00001_0', 11);
    s.handle({ type: 'workerLost', now: 12, workerId: 'w2' });
    assert.deepEqual(assigned(s.handle({ type: 'workerJoined', now: 13, workerId: 'w3', slots: 1 })), [
      'm-00001_1@w3',
    ]);
    const ds = finish(s, 'r-00000_0', 20);
    assert.deepEqual(types(ds), ['commit', 'kill', 'jobSucceeded']);
    const snap = s.snapshot();
    assert.equal(snap.tasks[1]!.committedAttempt, 'm-00001_0');
    assert.equal(snap.counts.map.committed, 2);
  });

  test('lost during the map phase: its map outputs are re-executed, unknown workers are late', () => {
    const { s } = start({ numMaps: 2, numReduces: 1 }, [
      ['w1', 1],
      ['w2', 1],
    ]);
    finish(s, 'm-00001_0', 5);
    assert.deepEqual(s.handle({ type: 'workerLost', now: 6, workerId: 'nobody' }), []);
    assert.deepEqual(assigned(s.handle({ type: 'workerLost', now: 6, workerId: 'w2' })), []);
    assert.equal(s.snapshot().counts.map.pending, 1);
    assert.deepEqual(assigned(finish(s, 'm-00000_0', 7)), ['m-00001_1@w1']);
  });
});

describe('fetch failures', () => {
  test('three reports re-execute the map (counted); the reporting reducer is not charged', () => {
    const { s } = start({ numMaps: 1, numReduces: 3 }, [
      ['w1', 2],
      ['w2', 2],
    ]);
    const r = finish(s, 'm-00000_0', 10, 'out@w1');
    assert.deepEqual(assigned(r), ['r-00000_0@w1', 'r-00001_0@w2', 'r-00002_0@w1']);
    s.handle({ type: 'fetchFailed', now: 11, mapTaskId: 'm-00000', reduceAttemptId: 'r-00000_0' });
    s.handle({ type: 'fetchFailed', now: 12, mapTaskId: 'm-00000', reduceAttemptId: 'r-00001_0' });
    assert.equal(s.mapOutput('m-00000'), 'out@w1');
    let ds = s.handle({ type: 'fetchFailed', now: 13, mapTaskId: 'm-00000', reduceAttemptId: 'r-00000_0' });
    assert.deepEqual(assigned(ds), ['m-00000_1@w2']); // elsewhere than the output that could not be read
    assert.equal(s.mapOutput('m-00000'), undefined);
    assert.equal(s.snapshot().tasks[0]!.failures, 1);
    assert.equal(s.attempts()[0]!.state, 'lost');
    // Further reports about the old output change nothing.
    s.handle({ type: 'fetchFailed', now: 14, mapTaskId: 'm-00000', reduceAttemptId: 'r-00002_0' });
    assert.equal(s.snapshot().tasks[0]!.attempts.length, 2);
    // The reducers fail (reported by the runtime): not counted, and they wait for the new output.
    ds = s.handle({ type: 'attemptFailed', now: 15, attemptId: 'r-00000_0', error: boom });
    assert.deepEqual(ds, []);
    assert.equal(s.snapshot().tasks[1]!.failures, 0);
    assert.equal(s.attempt('r-00000_0')!.status, 'killed');
    ds = finish(s, 'm-00000_1', 20, 'out@w2');
    assert.deepEqual(assigned(ds), ['r-00000_1@w1']);
    assert.equal(s.mapOutput('m-00000'), 'out@w2');
    assert.equal(s.snapshot().stats.fetchFailures, 4);
  });

  test('a report about an output that was already replaced is ignored', () => {
    const { s } = start({ numMaps: 1, numReduces: 1, maxFetchFailures: 1 }, [['w', 2]]);
    finish(s, 'm-00000_0', 1);
    const report = { type: 'fetchFailed', mapTaskId: 'm-00000', reduceAttemptId: 'r-00000_0' } as const;
    assert.deepEqual(assigned(s.handle({ ...report, now: 2, mapAttemptId: 'm-00000_0' })), ['m-00000_1@w']);
    finish(s, 'm-00000_1', 3);
    assert.deepEqual(s.handle({ ...report, now: 4, mapAttemptId: 'm-00000_0' }), []);
    assert.equal(s.snapshot().tasks[0]!.committedAttempt, 'm-00000_1');
  });

  test('with fewer than 3 reducers running, reports from most of them re-run the map at once', () => {
    // One reducer: its one report.
    let { s } = start({ numMaps: 1, numReduces: 1 }, [['w', 2]]);
    finish(s, 'm-00000_0', 1);
    const one = s.handle({ type: 'fetchFailed', now: 2, mapTaskId: 'm-00000', reduceAttemptId: 'r-00000_0' });
    assert.deepEqual(assigned(one), ['m-00000_1@w']);
    // Two reducers: one report is not enough, the second (of the other) is.
    ({ s } = start({ numMaps: 1, numReduces: 2 }, [['w', 3]]));
    finish(s, 'm-00000_0', 1);
    const report = (now: number, reduceAttemptId: string) =>
      assigned(s.handle({ type: 'fetchFailed', now, mapTaskId: 'm-00000', reduceAttemptId }));
    assert.deepEqual(report(2, 'r-00000_0'), []);
    assert.equal(s.snapshot().tasks[0]!.committedAttempt, 'm-00000_0');
    assert.deepEqual(report(3, 'r-00001_0'), ['m-00000_1@w']);
  });

  test('with many reducers running, a map is re-run only once half of them report it', () => {
    const { s } = start({ numMaps: 1, numReduces: 8 }, [['w', 9]]);
    finish(s, 'm-00000_0', 1);
    const report = (now: number, r: number) =>
      assigned(s.handle({ type: 'fetchFailed', now, mapTaskId: 'm-00000', reduceAttemptId: `r-0000${r}_0` }));
    // One bad link: reducer 0 alone, three times (its attempts would report once each).
    for (let now = 2; now < 5; now++) assert.deepEqual(report(now, 0), []);
    assert.equal(s.snapshot().tasks[0]!.committedAttempt, 'm-00000_0');
    assert.deepEqual(report(5, 1), ['m-00000_1@w']); // 4 reports: half of the 8 running
  });

  test('fetch failures exhausting the map task fail the job', () => {
    const { s } = start({ numMaps: 1, numReduces: 1, maxAttempts: 1, maxFetchFailures: 1 }, [['w', 2]]);
    finish(s, 'm-00000_0', 1);
    const ds = s.handle({ type: 'fetchFailed', now: 2, mapTaskId: 'm-00000', reduceAttemptId: 'r-00000_0' });
    assert.deepEqual(types(ds), ['kill', 'jobFailed']);
    const err = ds[1]!.type === 'jobFailed' ? ds[1]!.error : undefined;
    assert.equal(err?.cause?.code, 'TSMR_IO');
    assert.match(err!.message, /^task m-00000 failed 1 times; last error: map output of m-00000_0/);
  });
});

describe('speculation', () => {
  const cfg = { numMaps: 3, numReduces: 1, speculation: true, speculationMinRuntimeMs: 1000 };

  test('a straggler near the end of the phase gets one backup on another worker; first commit wins', () => {
    const { s, ds } = start(cfg, [
      ['w1', 2],
      ['w2', 2],
    ]);
    assert.deepEqual(assigned(ds), ['m-00000_0@w1', 'm-00001_0@w1', 'm-00002_0@w2']);
    s.handle({ type: 'progress', now: 500, attemptId: 'm-00000_0', fraction: 0.05 });
    finish(s, 'm-00001_0', 900);
    finish(s, 'm-00002_0', 900);
    // Not yet: m0 has run 999 ms < speculationMinRuntimeMs.
    assert.deepEqual(s.handle({ type: 'tick', now: 999 }), []);
    s.handle({ type: 'progress', now: 2000, attemptId: 'm-00000_0', fraction: 0.1 });
    let out = s.handle({ type: 'tick', now: 2000 });
    // rate 0.1/2000 ≤ median (1/900) / 2, and 18 s left > 0.9 s for a fresh attempt.
    assert.deepEqual(out, [
      {
        type: 'assign',
        attemptId: 'm-00000_1',
        taskId: 'm-00000',
        kind: 'map',
        index: 0,
        attempt: 1,
        workerId: 'w2',
        speculative: true,
      },
    ]);
    assert.deepEqual(s.handle({ type: 'tick', now: 3000 }), []); // one backup only
    out = finish(s, 'm-00000_1', 3100);
    assert.deepEqual(types(out), ['commit', 'kill', 'assign']);
    assert.equal(out[1]!.type === 'kill' && out[1]!.attemptId, 'm-00000_0');
    assert.deepEqual(s.handle({ type: 'attemptSucceeded', now: 3200, attemptId: 'm-00000_0' }), []);
    assert.equal(s.snapshot().stats.speculativeAttempts, 1);
    assert.equal(s.attempt('m-00000_1')!.speculative, true);
  });

  test('no backup for an attempt near its end, while tasks are pending, or when disabled', () => {
    const near = start(cfg, [
      ['w1', 2],
      ['w2', 2],
    ]).s;
    finish(near, 'm-00001_0', 1000);
    finish(near, 'm-00002_0', 1000);
    near.handle({ type: 'progress', now: 4000, attemptId: 'm-00000_0', fraction: 0.9 });
    // slow (0.9/4000 < 1/2000) but only ~444 ms left, less than a fresh attempt's 1000 ms
    assert.deepEqual(near.handle({ type: 'tick', now: 4000 }), []);

    const pending = start({ ...cfg, numMaps: 5 }, [
      ['w1', 1],
      ['w2', 1],
    ]).s;
    finish(pending, 'm-00001_0', 1000); // m2 takes w2's slot; m3, m4 pending
    assert.deepEqual(pending.handle({ type: 'tick', now: 5000 }), []);

    const off = start({ ...cfg, speculation: false }, [
      ['w1', 2],
      ['w2', 2],
    ]).s;
    finish(off, 'm-00001_0', 1000);
    finish(off, 'm-00002_0', 1000);
    assert.deepEqual(off.handle({ type: 'tick', now: 5000 }), []);
  });
});

describe('cancel', () => {
  test('kills everything running and fails the job; later events are ignored', () => {
    const { s } = start({ numMaps: 3, numReduces: 1 }, [['w', 2]]);
    const ds = s.handle({ type: 'cancel', now: 5, reason: 'SIGINT' });
    assert.deepEqual(types(ds), ['kill', 'kill', 'jobFailed']);
    const last = ds[2]!;
    assert.equal(last.type === 'jobFailed' && last.error.code, 'TSMR_CANCELLED');
    assert.equal(last.type === 'jobFailed' && last.error.message, 'job cancelled: SIGINT');
    assert.deepEqual(s.handle({ type: 'attemptSucceeded', now: 6, attemptId: 'm-00000_0' }), []);
    assert.deepEqual(s.handle({ type: 'cancel', now: 7, reason: 'again' }), []);
    assert.equal(s.snapshot().stats.lateEvents, 2);
    assert.ok(s.attempts().every((a) => a.status === 'killed'));
  });
});

describe('attempt changes and i/o, for observers', () => {
  test('changedAttempts lists attempts that started or changed state since the last call, once', () => {
    const { s } = start({ numMaps: 2, numReduces: 1, maxAttempts: 2 }, [['w1', 2]]);
    assert.deepEqual(
      s.changedAttempts().map((a) => `${a.attemptId}:${a.state}`),
      ['m-00000_0:running', 'm-00001_0:running'],
    );
    assert.deepEqual(s.changedAttempts(), []);
    s.handle({ type: 'progress', now: 1, attemptId: 'm-00000_0', fraction: 0.5, bytes: 10, records: 2 });
    assert.deepEqual(s.changedAttempts(), [], 'progress alone is no change');
    s.handle({ type: 'attemptFailed', now: 2, attemptId: 'm-00001_0', error: boom });
    assert.deepEqual(
      s.changedAttempts().map((a) => `${a.attemptId}:${a.state}`),
      ['m-00001_0:failed', 'm-00001_1:running'],
    );
    finish(s, 'm-00000_0', 3);
    const [committed] = s.changedAttempts();
    assert.equal(committed?.state, 'committed');
    assert.equal(committed?.inputBytes, 10);
    assert.equal(committed?.inputRecords, 2);
  });

  test('history entries carry the input last reported and the output written', () => {
    const { s } = start({ numMaps: 1, numReduces: 0 }, [['w1', 1]]);
    s.handle({ type: 'progress', now: 1, attemptId: 'm-00000_0', fraction: 0.2, bytes: 5, records: 1 });
    s.handle({ type: 'progress', now: 2, attemptId: 'm-00000_0', fraction: 1, bytes: 20, records: 4 });
    s.handle({
      type: 'attemptSucceeded',
      now: 3,
      attemptId: 'm-00000_0',
      written: { bytes: 30, records: 3 },
    });
    assert.deepEqual(
      (({ inputBytes, inputRecords, outputBytes, outputRecords }) => ({
        inputBytes,
        inputRecords,
        outputBytes,
        outputRecords,
      }))(s.attempt('m-00000_0')!),
      { inputBytes: 20, inputRecords: 4, outputBytes: 30, outputRecords: 3 },
    );
  });
});
