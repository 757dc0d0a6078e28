/**
 * The job driver when attempts are killed and jobs cancelled, with the real
 * local executor (in-process and worker threads) and real files: killed
 * attempts stop, the job ends only after they and any commit under way have
 * settled, late results are dropped, and events are handled one at a time.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import {
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import type { Job } from '../src/api/types.ts';
import type { ProgressSnapshot } from '../src/engine/job-report.ts';
import { Scheduler, type SchedulerEvent } from '../src/engine/scheduler.ts';
import { ErrorCode } from '../src/errors.ts';
import { abortJob, attemptDir, prepareOutput } from '../src/io/committer.ts';
import { fileOutputCommitter, type OutputCommitter, recordsCommitter } from '../src/io/output-committer.ts';
import { normalizeOutputFormat } from '../src/io/output-writer.ts';
import { planSplits } from '../src/io/splits.ts';
import { defineJob, runJob } from '../src/index.ts';
import type { AttemptExecutor } from '../src/runtime/executor.ts';
import { driveJob, type DriverInput } from '../src/runtime/job-driver.ts';
import { createLocalExecutor } from '../src/runtime/local/local-executor.ts';
import { resolveSettings } from '../src/runtime/settings.ts';
import type { JobRef } from '../src/task/messages.ts';
import { moduleJobBody } from '../src/task/module-job-body.ts';
import countWords from './fixtures/jobs/count-words.ts';

let tmp = '';
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tsmr-driver-kill-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A text file of `lines` lines `line <i>`, in a fresh directory. */
function textInput(name: string, lines: number): { dir: string; file: string; size: number } {
  const dir = join(tmp, name);
  mkdirSync(dir);
  const file = join(dir, 'lines.txt');
  const text = Array.from({ length: lines }, (_, i) => `line ${i}\n`).join('');
  writeFileSync(file, text);
  return { dir, file, size: Buffer.byteLength(text) };
}

interface Setup {
  name: string;
  job: Job;
  splits?: number;
  executor?: (job: Job, workDir: string) => AttemptExecutor;
  ref?: JobRef;
  committer?: OutputCommitter;
  taskTimeoutMs?: number;
  signal?: AbortSignal;
  onProgress?: (snapshot: ProgressSnapshot) => void;
}

/** Driver input for `job` over a fresh text file; in-process executor and records output unless given. */
function driverInput(s: Setup): DriverInput & { workDir: string } {
  const { file, size } = textInput(s.name, 200);
  const workDir = join(tmp, s.name, 'work');
  const body = moduleJobBody(s.job, s.name);
  const splitSize = Math.ceil(size / (s.splits ?? 1));
  return {
    jobId: `job-${s.name}`,
    ref: s.ref,
    body,
    splits: planSplits([{ path: file, size, mtimeMs: statSync(file).mtimeMs }], { splitSize }),
    settings: {
      ...resolveSettings({ input: [], workers: 0, reducers: 1 }, undefined),
      taskTimeoutMs: s.taskTimeoutMs ?? 600_000,
    },
    workDir,
    committer: s.committer ?? recordsCommitter(),
    executor: s.executor?.(s.job, workDir) ?? createLocalExecutor(0, body, workDir),
    onProgress: s.onProgress ?? (() => {}),
    log: pino({ level: 'silent' }),
    signal: s.signal,
  };
}

/** `executor`, plus the ids of attempts whose `result` has not settled yet. */
function watched(executor: AttemptExecutor): AttemptExecutor & { unsettled: Set<string> } {
  const unsettled = new Set<string>();
  return {
    ...executor,
    unsettled,
    start(workerId, msg, onProgress) {
      const attempt = executor.start(workerId, msg, onProgress);
      const id = `${msg.taskId}_${msg.attempt}`;
      unsettled.add(id);
      const settle = () => unsettled.delete(id);
      void attempt.outcome.then(settle);
      return attempt;
    },
  };
}

/** A job whose (async) map cancels `controller` at its 5th record; `mapped()` counts records mapped. */
function cancelledAtFifthRecord(controller: AbortController): { job: Job; mapped: () => number } {
  let mapped = 0;
  const job = defineJob({
    async map(_offset: number, line: string, ctx) {
      if (++mapped === 5) controller.abort();
      await nextTurn(); // async user code: the event loop turns between records
      ctx.emit(line, 1);
    },
    reduce(key: string, _values, ctx) {
      ctx.emit(key, 1);
    },
  });
  return { job, mapped: () => mapped };
}

test('workers: 0: a cancelled job stops its running attempt at the next record and keeps no files', async () => {
  const { dir } = textInput('run-cancel', 200);
  const out = join(tmp, 'run-cancel-out');
  const scratch = join(tmp, 'run-cancel-scratch');
  const controller = new AbortController();
  const { job, mapped } = cancelledAtFifthRecord(controller);
  const handle = runJob(job, {
    input: dir,
    output: out,
    tmpDir: scratch,
    workers: 0,
    signal: controller.signal,
  });
  await assert.rejects(handle.done, { code: ErrorCode.CANCELLED });
  assert.equal(mapped(), 5, 'no record was mapped after the cancel');
  assert.deepEqual(readdirSync(out), ['_job.json']);
  assert.deepEqual(readdirSync(scratch), [], 'scratch directory removed');
});

test('the driver ends a cancelled job only after its killed in-process attempt has stopped', async () => {
  const controller = new AbortController();
  const { job, mapped } = cancelledAtFifthRecord(controller);
  let executor: ReturnType<typeof watched> | undefined;
  const input = driverInput({
    name: 'driver-cancel',
    job,
    signal: controller.signal,
    executor: (j, w) => (executor = watched(createLocalExecutor(0, moduleJobBody(j, 'driver-cancel'), w))),
  });
  const result = await driveJob(input);
  assert.equal(result.status, 'cancelled');
  assert.deepEqual([...(executor?.unsettled ?? [])], [], 'no attempt still running when the job ended');
  assert.equal(mapped(), 5);
  assert.equal(result.attempts[0]?.status, 'killed');
  assert.ok(!existsSync(join(input.workDir, 'attempts', 'm-00000_0')), 'killed attempt files deleted');
});

/**
 * A job whose map attempt 0 hangs on its first record (no progress: it times
 * out) until attempt 1 maps a record. `late` gets the records attempt 0 maps
 * after that; `onFirstReduce` runs before the first reduce call.
 */
function hangingFirstAttempt(onFirstReduce: () => Promise<void> = async () => {}) {
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  const late: number[] = [];
  let reduced = 0;
  const job = defineJob({
    async map(offset: number, line: string, ctx) {
      if (ctx.attempt === 0 && offset === 0) await released;
      else if (ctx.attempt === 0) late.push(offset);
      else release();
      ctx.emit(line, 1);
    },
    async reduce(key: string, _values, ctx) {
      if (reduced++ === 0) await onFirstReduce();
      ctx.emit(key, 1);
    },
  });
  return { job, late };
}

// The scheduler checks timeouts on the driver's 1 s tick: attempt 0 (no progress) is
// killed on the first tick; every other attempt ends long before 600 ms.
const TIMEOUT_MS = 600;

test('workers: 0: an attempt killed for a timeout stops at its next record and counts as failed', async () => {
  const { job, late } = hangingFirstAttempt();
  const snapshots: ProgressSnapshot[] = [];
  const input = driverInput({
    name: 'timeout',
    job,
    taskTimeoutMs: TIMEOUT_MS,
    onProgress: (s) => snapshots.push(s),
  });
  const result = await driveJob(input);
  assert.equal(result.status, 'succeeded', result.error?.message);
  assert.deepEqual(late, [], 'the timed-out attempt mapped no record after its kill');
  assert.deepEqual(
    result.attempts.filter((a) => a.taskId === 'm-00000').map((a) => a.status),
    ['failed', 'committed'],
  );
  assert.equal(snapshots.at(-1)?.failedAttempts, 1);
  assert.ok(!existsSync(join(input.workDir, 'attempts', 'm-00000_0')), 'killed attempt files deleted');
});

test(
  'workers: 0: an attempt stuck in an await does not keep a cancelled job from ending',
  { timeout: 30_000 },
  async () => {
    const controller = new AbortController();
    const job = defineJob({
      async map(_offset: number, _line: string) {
        controller.abort();
        await new Promise(() => {}); // never settles
      },
      reduce() {},
    });
    const input = driverInput({ name: 'stuck', job, signal: controller.signal });
    const result = await driveJob(input);
    assert.equal(result.status, 'cancelled');
    assert.equal(result.attempts[0]?.status, 'killed');
  },
);

test('a killed attempt is no longer counted as running, and the files of its late result are deleted', async () => {
  let progress: ProgressSnapshot | undefined;
  let onSnapshot = (_s: ProgressSnapshot) => {};
  // The first reduce waits for a progress snapshot: it shows the running tasks then.
  const { job, late } = hangingFirstAttempt(
    () =>
      new Promise<void>((resolve) => {
        onSnapshot = (s) => {
          progress ??= s;
          resolve();
        };
      }),
  );
  const input = driverInput({
    name: 'late-result',
    job,
    taskTimeoutMs: TIMEOUT_MS,
    onProgress: (s) => onSnapshot(s),
    // Kills are lost (as when a worker's result is already on its way): attempt 0 finishes.
    executor: (j, w) => {
      const inner = createLocalExecutor(0, moduleJobBody(j, 'late-result'), w);
      return { ...inner, start: (...args) => ({ ...inner.start(...args), kill: () => {} }) };
    },
  });
  const result = await driveJob(input);
  assert.equal(result.status, 'succeeded', result.error?.message);
  assert.ok(late.length > 0, 'attempt 0 ran to its end');
  assert.equal(progress?.phases.map.tasksRunning, 0);
  assert.equal(progress?.phases.reduce.tasksRunning, 1);
  assert.ok(!existsSync(join(input.workDir, 'attempts', 'm-00000_0')), 'late result files deleted');
  assert.ok(existsSync(join(input.workDir, 'attempts', 'm-00000_1')), 'committed map output kept');
});

/** Reads `fd` (non-blocking) until it has nothing more to give. */
function drain(fd: number): void {
  const buf = Buffer.alloc(1 << 16);
  try {
    while (readSync(fd, buf) > 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
  }
}

test(
  'a cancel during a reduce commit: the job ends after the commit settled, and abort leaves no part file',
  { skip: process.platform === 'win32' && 'needs mkfifo' },
  async () => {
    const out = join(tmp, 'commit-cancel-out');
    const prepared = await prepareOutput(out, { overwrite: false, inputs: [] });
    // The commit first writes the attempt's `.attempt` marker. As a FIFO whose buffer
    // the test keeps full, it holds the commit until the test drains it.
    const dir = attemptDir(out, 'r-00000', 0);
    mkdirSync(dir);
    const marker = join(dir, '.attempt');
    execFileSync('mkfifo', [marker]);
    const pipe = openSync(marker, constants.O_RDWR | constants.O_NONBLOCK);
    try {
      for (;;) writeSync(pipe, Buffer.alloc(1 << 16));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    }
    const controller = new AbortController();
    const driving = driveJob(
      driverInput({
        name: 'commit-cancel',
        job: countWords,
        committer: fileOutputCommitter(prepared, normalizeOutputFormat(undefined)),
        signal: controller.signal,
        executor: (j, w) => {
          const inner = createLocalExecutor(0, moduleJobBody(j, 'commit-cancel'), w);
          return {
            ...inner,
            start(workerId, msg, onProgress) {
              const attempt = inner.start(workerId, msg, onProgress);
              // Once the reduce attempt succeeded, its commit is under way: cancel then.
              const cancel = () => setImmediate(() => controller.abort());
              if (msg.kind === 'reduce') void attempt.outcome.then((o) => o.ok && cancel());
              return attempt;
            },
          };
        },
      }),
    );
    await once(controller.signal, 'abort');
    let committedWhenEnded: boolean | undefined;
    void driving.then(() => (committedWhenEnded = !existsSync(dir)));
    await nextTurn(); // a driver that does not wait for the commit has ended by now
    drain(pipe);
    const result = await driving;
    assert.equal(committedWhenEnded, true, 'the job ended only after the commit under way had finished');
    closeSync(pipe);
    assert.equal(result.status, 'cancelled');
    await abortJob(prepared, result); // as runJob does for a job that did not succeed
    assert.deepEqual(readdirSync(out), ['_job.json']);
  },
);

test('a cancel kills a worker-thread attempt: progress does not count it as failed', async () => {
  const controller = new AbortController();
  const snapshots: ProgressSnapshot[] = [];
  const moduleUrl = new URL('./fixtures/jobs/slow-map.ts', import.meta.url).href;
  const input = driverInput({
    name: 'thread-cancel',
    job: countWords,
    ref: { kind: 'module', moduleUrl, exportName: 'default' },
    signal: controller.signal,
    onProgress: (s) => snapshots.push(s),
    executor: (_j, w) => {
      const pool = createLocalExecutor(1, moduleJobBody(countWords, 'unused'), w);
      return {
        ...pool,
        start(...args) {
          const attempt = pool.start(...args);
          queueMicrotask(() => controller.abort());
          return attempt;
        },
        close: () => pool.close(),
      };
    },
  });
  const result = await driveJob(input).finally(() => input.executor.close());
  assert.equal(result.status, 'cancelled');
  assert.equal(result.attempts[0]?.status, 'killed');
  assert.equal(snapshots.at(-1)?.failedAttempts, 0);
});

test('the driver hands the scheduler one event at a time and carries out its decisions in order', async (t) => {
  const trace: string[] = [];
  const handleEvent = Scheduler.prototype.handle;
  t.mock.method(Scheduler.prototype, 'handle', function (this: Scheduler, event: SchedulerEvent) {
    const decisions = handleEvent.call(this, event);
    trace.push(`event ${event.type}`);
    for (const d of decisions)
      if (d.type === 'assign' || d.type === 'kill') trace.push(`${d.type} ${d.attemptId}`);
    return decisions;
  });
  const input = driverInput({
    name: 'event-order',
    job: countWords,
    splits: 3,
    executor: (j, w) => {
      const inner = createLocalExecutor(0, moduleJobBody(j, 'event-order'), w);
      return {
        ...inner,
        start(workerId, msg, onProgress) {
          const id = `${msg.taskId}_${msg.attempt}`;
          trace.push(`started ${id}`);
          const attempt = inner.start(workerId, msg, onProgress);
          const kill = (reason: string): void => {
            trace.push(`killed ${id}`);
            attempt.kill(reason);
          };
          return { outcome: attempt.outcome, kill };
        },
      };
    },
  });
  assert.equal(input.splits.length, 3);
  const result = await driveJob(input);
  assert.equal(result.status, 'succeeded', result.error?.message);
  // Each event's assigns and kills are carried out, in order, before the next event.
  const expected: string[] = [];
  for (const line of trace) {
    if (line.startsWith('event ')) {
      assert.deepEqual(expected, [], `${line} handled before the previous decisions were carried out`);
    } else if (line.startsWith('assign ') || line.startsWith('kill ')) {
      expected.push(line.replace(/^assign/, 'started').replace(/^kill/, 'killed'));
    } else {
      assert.equal(line, expected.shift());
    }
  }
  assert.deepEqual(expected, []);
});
