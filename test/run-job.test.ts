/**
 * The engine through its programmatic API: random jobs against an in-memory
 * reference, spills and multi-pass merges forced by tiny buffers, failure
 * injection, verification, in-memory input and results.
 */
import assert from 'node:assert/strict';
import {
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
  mkdirSync,
  existsSync,
  readFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { collectResults, runJob } from '../src/index.ts';
import countWords from './fixtures/jobs/count-words.ts';
import { readParts } from './support/run-cli.ts';

const countWordsPath = new URL('./fixtures/jobs/count-words.ts', import.meta.url);
const noCombinerPath = new URL('./fixtures/jobs/count-words-no-combiner.ts', import.meta.url);
let tmp = '';

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tsmr-run-job-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Word → count, the plain way. */
function reference(lines: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of lines)
    for (const w of line.split(' ')) if (w !== '') counts.set(w, (counts.get(w) ?? 0) + 1);
  return counts;
}

/** Reference counts sorted by UTF-8 bytes, as tsmr orders string keys. */
function sortedReference(lines: readonly string[]): [string, number][] {
  return [...reference(lines)].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

function writeInput(name: string, files: readonly (readonly string[])[]): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  files.forEach((lines, i) => writeFileSync(join(dir, `f${i}.txt`), lines.map((l) => `${l}\n`).join('')));
  return dir;
}

const word = fc.constantFrom('a', 'b', 'ab', 'B', 'é', 'z\u0000', '😀', 'ba', 'aa', 'a b'.split(' ')[0]);
const line = fc.array(word, { maxLength: 8 }).map((ws) => ws.join(' '));
const files = fc.array(fc.array(line, { maxLength: 30 }), { minLength: 1, maxLength: 4 });

test('random jobs equal an in-memory reference (tiny splits and sort buffers, multi-pass merges)', async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      files,
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 8, max: 300 }),
      fc.integer({ min: 2, max: 4 }),
      fc.boolean(),
      async (contents, reducers, splitSize, mergeFanIn, combiner) => {
        const input = writeInput(`prop-${run++}`, contents);
        const handle = runJob(combiner ? countWordsPath : noCombinerPath, {
          input,
          workers: 0,
          reducers,
          splitSize,
          sortBuffer: 1024,
          mergeFanIn,
        });
        const results = await collectResults<string, number>(handle);
        const expected = sortedReference(contents.flat());
        if (combiner) {
          assert.deepEqual(results, expected);
        } else {
          // Keys were [word, length] tuples: order by word bytes, then length; same counts.
          assert.deepEqual(new Map(results), new Map(expected));
        }
      },
    ),
    { numRuns: 25 },
  );
});

test('worker threads, forced spills and --simulate-failures give output identical to a clean run', async () => {
  const lines = Array.from({ length: 4000 }, (_, i) => `w${i % 97} x${i % 13} shared w${(i * 7) % 101}`);
  const input = writeInput('threads', [lines.slice(0, 2000), lines.slice(2000)]);
  const clean = join(tmp, 'out-clean');
  const faulty = join(tmp, 'out-faulty');
  const common = { input, workers: 2, reducers: 3, splitSize: 8 * 1024, sortBuffer: 4096 };
  const cleanReport = await runJob(countWords, { ...common, output: clean }).done;
  const faultyReport = await runJob(countWords, {
    ...common,
    output: faulty,
    simulateFailures: 0.5,
    seed: 7,
  }).done;

  assert.equal(cleanReport.status, 'succeeded');
  assert.ok(cleanReport.phases.map!.tasks >= 4, 'several map tasks');
  assert.ok(
    faultyReport.attempts.some((a) => a.status === 'failed'),
    'some attempts crashed',
  );
  for (const name of ['part-r-00000', 'part-r-00001', 'part-r-00002']) {
    assert.deepEqual(readFileSync(join(faulty, name)), readFileSync(join(clean, name)), name);
  }
  const counted = new Map(
    readParts(clean)
      .lines.map((l) => l.split('\t'))
      .map(([w, n]) => [w, Number(n)]),
  );
  assert.deepEqual(counted, reference(lines));
  assert.equal(
    faultyReport.counters['tsmr/MAP_INPUT_RECORDS'],
    lines.length,
    'only committed attempts count',
  );
  assert.ok(existsSync(join(faulty, '_SUCCESS')));
  assert.deepEqual(readdirSync(faulty).sort(), [
    '_SUCCESS',
    '_job.json',
    'part-r-00000',
    'part-r-00001',
    'part-r-00002',
  ]);
});

test('simulateFailures 1 crashes every attempt but each task’s last, and the job still succeeds', async () => {
  const lines = Array.from({ length: 300 }, (_, i) => `w${i % 17} x${i % 5}`);
  const input = writeInput('rate-one', [lines.slice(0, 150), lines.slice(150)]);
  const report = await runJob(countWords, {
    input,
    workers: 0,
    reducers: 2,
    maxAttempts: 3,
    simulateFailures: 1,
    output: join(tmp, 'out-rate-one'),
  }).done;
  const byTask = Map.groupBy(report.attempts, (a) => a.taskId);
  assert.equal(byTask.size, report.phases.map!.tasks + 2);
  for (const [task, attempts] of byTask) {
    assert.deepEqual(
      attempts.map((a) => a.status),
      ['failed', 'failed', 'committed'],
      task,
    );
  }
  assert.deepEqual(
    new Map(readParts(join(tmp, 'out-rate-one')).lines.map((l) => l.split('\t') as [string, string])),
    new Map([...reference(lines)].map(([w, n]) => [w, String(n)])),
  );
  await assert.rejects(runJob(countWords, { input, simulateFailures: 1.5 }).done, {
    code: 'TSMR_USAGE',
    message: /simulateFailures must be a rate from 0 to 1, both included .*got 1\.5/,
  });
});

test('a job handle announces its start and each attempt change; the report has attempt i/o and workers', async () => {
  const lines = Array.from({ length: 400 }, (_, i) => `w${i % 13} y${i % 3}`);
  const input = writeInput('events', [lines.slice(0, 200), lines.slice(200)]);
  const handle = runJob(countWordsPath, {
    input,
    workers: 2,
    reducers: 2,
    maxAttempts: 2,
    simulateFailures: 1,
    output: join(tmp, 'out-events'),
  });
  const started: unknown[] = [];
  const last = new Map<string, string>();
  handle.on('started', (job) => started.push(job));
  handle.on('attempt', (a) => last.set(a.attemptId, a.status));
  const report = await handle.done;
  assert.deepEqual(started, [
    {
      jobId: report.jobId,
      name: report.name,
      startedAt: (started[0] as { startedAt: number }).startedAt,
      settings: report.settings,
      tasks: { map: report.phases.map!.tasks, reduce: 2 },
      workers: [{ id: 'local', slots: 2 }],
    },
  ]);
  assert.deepEqual(last, new Map(report.attempts.map((a) => [`${a.taskId}_${a.attempt}`, a.status])));
  const maps = report.attempts.filter((a) => a.taskId.startsWith('m-') && a.status === 'committed');
  assert.equal(
    maps.reduce((n, a) => n + a.inputBytes!, 0),
    report.phases.map!.inputBytes,
  );
  assert.equal(
    maps.reduce((n, a) => n + a.inputRecords!, 0),
    report.counters['tsmr/MAP_INPUT_RECORDS'],
    'the last progress of each attempt counts, even when it comes after the result',
  );
  assert.ok(maps.every((a) => a.outputRecords! > 0 && a.outputBytes! > 0));
  const [local, ...others] = report.workers;
  assert.deepEqual(others, []);
  assert.equal(local!.workerId, 'local');
  assert.equal(local!.slots, 2);
  assert.equal(local!.tasks, report.attempts.length / 2);
  assert.equal(local!.failedAttempts, report.attempts.length / 2);
  assert.ok(local!.busyMs > 0);
});

test('--verify re-runs sequentially and records the comparison', async () => {
  const input = writeInput('verify', [['a b c', 'c b', 'c']]);
  const report = await runJob(countWordsPath, {
    input,
    output: join(tmp, 'out-verify'),
    workers: 2,
    verify: true,
  }).done;
  assert.equal(report.validation.verifiedAgainstSequential, true);
  assert.equal(report.validation.shuffleRecordsMatch, true);
});

test('in-memory input (an async iterable) and results in key order', async () => {
  async function* records() {
    for (let i = 0; i < 5000; i++) yield `k${i % 50} k${i % 7}`;
  }
  const results = await collectResults<string, number>(
    runJob(countWords, { input: records(), workers: 2, reducers: 4, splitSize: 4096 }),
  );
  const lines = Array.from({ length: 5000 }, (_, i) => `k${i % 50} k${i % 7}`);
  assert.deepEqual(results, sortedReference(lines));
});

test('an inline job runs in-process with workers: 0 and is refused for threads with a clear error', async () => {
  const { defineJob } = await import('../src/index.ts');
  const suffix = '!';
  const inline = defineJob({
    map(_o: number, value: unknown, ctx) {
      ctx.emit(`${String(value)}${suffix}`, 1);
    },
    reduce(key: string, _values, ctx) {
      ctx.emit(key, 1);
    },
  });
  const results = await collectResults(runJob(inline, { input: { records: ['x', 'y'] }, workers: 0 }));
  assert.deepEqual(results, [
    ['x!', 1],
    ['y!', 1],
  ]);
  await assert.rejects(runJob(inline, { input: { records: ['x'] }, workers: 2 }).done, {
    code: 'TSMR_JOB_NOT_IMPORTABLE',
    message: /workers: 0/,
  });
});

test('a key with a million values streams through reduce', async () => {
  async function* same() {
    for (let i = 0; i < 1_000_000; i++) yield 'k';
  }
  const results = await collectResults(
    runJob(countWords, { input: same(), workers: 1, reducers: 1, sortBuffer: 64 * 1024 }),
  );
  assert.deepEqual(results, [['k', 1_000_000]]);
});

test('verify refuses one-shot in-memory input with a usage error', async () => {
  await assert.rejects(
    runJob(countWords, { input: { records: ['a'] }, output: join(tmp, 'out-verify-mem'), verify: true }).done,
    { code: 'TSMR_USAGE', message: /path inputs/ },
  );
  assert.equal(existsSync(join(tmp, 'out-verify-mem')), false);
});
