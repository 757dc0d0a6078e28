import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isTsmrError } from '../errors.ts';
import { runBatch } from './run-batch.ts';
import { collect } from './summary.ts';
import type { BatchFailure, BatchResult, ModuleFn } from './types.ts';

const fixtures = new URL('./fixtures/thread-fns.ts', import.meta.url);
const fn = (name?: string): ModuleFn => ({ module: fixtures, export: name });
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const isCode = (code: string) => (e: unknown) => isTsmrError(e) && e.code === code;
const failure = (r: BatchResult<unknown, unknown>): Error => (r as BatchFailure<unknown>).error;

test('threads: same results as a plain loop, in input order; cheap items are batched automatically', async () => {
  const run = runBatch<number, number>(range(20_000), fn(), { concurrency: 2 });
  const { results, summary } = await collect(run);
  assert.deepEqual(
    results.map((r) => r.ok && r.value),
    range(20_000).map((n) => n * n),
  );
  assert.deepEqual(
    results.map((r) => r.index),
    range(20_000),
  );
  assert.equal(summary.failed, 0);
  assert.ok(run.batchSize > 10, `auto batch size ${run.batchSize} for sub-microsecond items`);
});

test('threads: slow items go one per message', async () => {
  const run = runBatch<number, number>([20, 20, 20, 20, 20, 20], fn('wait'), { concurrency: 2 });
  const { results } = await collect(run);
  assert.equal(results.filter((r) => r.ok).length, 6);
  assert.equal(run.batchSize, 1);
  assert.equal(new Set(results.map((r) => r.ok && r.value)).size, 2, 'both threads worked');
});

test('threads: errors keep their code and message; one failing item does not fail its batch-mates', async () => {
  const { results } = await collect(runBatch<number, number>(range(100), fn('failOdd'), { batchSize: 10 }));
  assert.deepEqual(
    results.map((r) => r.ok),
    range(100).map((n) => n % 2 === 0),
  );
  const e = failure(results[7]!);
  assert.ok(isCode('TSMR_USER_CODE')(e));
  assert.equal(e.message, 'odd 7');
  assert.match(e.stack ?? '', /thread-fns\.ts/);
});

test('threads: retries go back to a thread after the backoff', async () => {
  const { results } = await collect(
    runBatch<number, string>(range(10), fn('flaky'), {
      retries: 1,
      backoff: { initialDelay: 1 },
      batchSize: 3,
    }),
  );
  assert.deepEqual(
    results.map((r) => r.ok && r.value),
    range(10).map((n) => `${n}@2`),
  );
});

test('threads: a thread stuck in synchronous code is terminated; only its item fails, with TSMR_TASK_TIMEOUT', async () => {
  const items = range(8).map((i) => ({ hang: i === 5 }));
  const { results } = await collect(
    runBatch<{ hang: boolean }, number>(items, fn('spin'), { concurrency: 2, batchSize: 4, timeout: 2000 }),
  );
  assert.deepEqual(
    results.map((r) => r.ok),
    [true, true, true, true, true, false, true, true],
  );
  assert.ok(isCode('TSMR_TASK_TIMEOUT')(failure(results[5]!)));
  assert.equal(results[5]!.attempts, 1);
});

test('threads: an uncloneable value fails its own item only', async () => {
  const { results } = await collect(
    runBatch<number, number>(range(20), fn('uncloneable'), { batchSize: 20 }),
  );
  assert.deepEqual(
    results.filter((r) => !r.ok).map((r) => r.index),
    [13],
  );
  assert.match(failure(results[13]!).message, /could not be cloned/);
});

test('threads: AbortSignal terminates running threads and ends the iteration', async () => {
  const controller = new AbortController();
  const run = runBatch<{ hang: boolean }, number>(
    [{ hang: false }, { hang: true }, { hang: true }],
    fn('spin'),
    {
      concurrency: 2,
      batchSize: 1,
      signal: controller.signal,
    },
  );
  await assert.rejects(async () => {
    for await (const r of run) {
      assert.equal(r.index, 0);
      controller.abort();
    }
  }, isCode('TSMR_CANCELLED'));
});

test('threads: a missing export or module ends the batch with TSMR_BAD_JOB', async () => {
  await assert.rejects(collect(runBatch([1], fn('notAFunction'))), (e) => {
    return isCode('TSMR_BAD_JOB')(e) && /no function export "notAFunction"/.test((e as Error).message);
  });
  await assert.rejects(
    collect(runBatch([1], { module: './does-not-exist.ts' }, { mode: 'async' })),
    isCode('TSMR_BAD_JOB'),
  );
});

test('a module function can also run in async mode on this thread', async () => {
  const { results } = await collect(runBatch<number, number>([3], fn(), { mode: 'async' }));
  assert.deepEqual(results[0]!.ok && results[0]!.value, 9);
});
