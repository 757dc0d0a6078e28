/**
 * Secondary sort (`groupBy`) through the engine: tuple keys grouped by their
 * first element across map tasks, spills and reduce tasks, in worker threads
 * and in-process, against an in-memory reference; and the error for a key
 * that is not a tuple.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { collectResults, isTsmrError, runJob } from '../src/index.ts';

const job = new URL('./fixtures/jobs/visits-in-time-order.ts', import.meta.url);
let tmp = '';

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tsmr-secondary-sort-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Deterministic `user time` lines: 300 users, times 0–999 (some repeated). */
function lines(n: number, seed: number): string[] {
  let x = seed;
  const next = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  return Array.from({ length: n }, () => `u${next() % 300}${next() % 5 === 0 ? 'é' : ''} ${next() % 1000}`);
}

/** Per user (in UTF-8 byte order), `time×count` in ascending time order. */
function reference(all: readonly string[]): [string, string][] {
  const byUser = new Map<string, Map<number, number>>();
  for (const line of all) {
    const [user, time] = line.split(' ');
    const times = byUser.get(user) ?? new Map<number, number>();
    times.set(Number(time), (times.get(Number(time)) ?? 0) + 1);
    byUser.set(user, times);
  }
  return [...byUser]
    .sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    .map(([user, times]) => [
      user,
      [...times]
        .sort(([a], [b]) => a - b)
        .map(([t, n]) => `${t}x${n}`)
        .join(' '),
    ]);
}

function writeInput(name: string, files: string[][]): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  files.forEach((f, i) => writeFileSync(join(dir, `f${i}.txt`), f.map((l) => `${l}\n`).join('')));
  return dir;
}

for (const workers of [0, 2]) {
  test(`groupBy: 1 gives one reduce call per user, times ascending (workers: ${workers}, 3 reducers, spills)`, async () => {
    const files = [lines(4000, 3 + workers), lines(3000, 11 + workers)];
    const input = writeInput(`in-${workers}`, files);
    const handle = runJob(job, {
      input,
      workers,
      reducers: 3,
      splitSize: 16 * 1024,
      sortBuffer: 8192,
      mergeFanIn: 3,
    });
    const results = await collectResults<string, string>(handle);
    const report = await handle.done;
    const expected = reference(files.flat());
    // One result per user: a user's keys never reached two reduce tasks, nor two groups.
    assert.equal(results.length, expected.length);
    assert.deepEqual(new Map(results), new Map(expected));
    assert.ok(report.phases.map!.tasks >= 4, `several map tasks, got ${report.phases.map!.tasks}`);
    assert.ok(report.counters['tsmr/SPILLED_RECORDS'] > 0);
    assert.equal(report.counters['tsmr/REDUCE_INPUT_GROUPS'], expected.length);
  });
}

test('a key that is not a tuple fails the job with TSMR_BAD_KEY, naming the record and groupBy', async () => {
  const input = writeInput('bad', [['ann 1', 'bob 2', 'BAD 3', 'cy 4']]);
  const handle = runJob(job, { input, workers: 1, params: { badKey: 'yes' } });
  await assert.rejects(handle.done, (e: unknown) => {
    assert.ok(isTsmrError(e));
    assert.equal(e.code, 'TSMR_BAD_KEY');
    assert.match(e.message, /the key "BAD" is not an array: the job's groupBy: 1 groups tuple keys/);
    assert.match(e.message, /byte 12 of .*f0\.txt/);
    return true;
  });
  assert.equal(handle.report?.attempts.length, 1, 'not retried: the same record emits it again');
});
