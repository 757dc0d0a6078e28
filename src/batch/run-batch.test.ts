import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isTsmrError } from '../errors.ts';
import { runBatch } from './run-batch.ts';
import { collect } from './summary.ts';
import type { BatchProgress, BatchResult, RetryEvent } from './types.ts';

function deferred<V = void>(): { promise: Promise<V>; resolve(v: V): void } {
  let resolve!: (v: V) => void;
  const promise = new Promise<V>((r) => (resolve = r));
  return { promise, resolve };
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const isCode = (code: string) => (e: unknown) => isTsmrError(e) && e.code === code;

test('results come in input order by default, with at most `concurrency` in flight', async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const gates = range(12).map(() => deferred());
  const run = runBatch(
    range(12),
    async (n) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      // Later items finish first: item i waits for item i + 1 (the last one for nobody).
      if (n < 11) await gates[n + 1]!.promise;
      inFlight--;
      gates[n]!.resolve();
      return n * 10;
    },
    { concurrency: 12 },
  );
  const { results, summary } = await collect(run);
  assert.deepEqual(
    results.map((r) => [r.index, r.ok && r.value, r.attempts]),
    range(12).map((i) => [i, i * 10, 1]),
  );
  assert.equal(maxInFlight, 12);
  assert.equal(summary.count, 12);

  inFlight = maxInFlight = 0;
  await collect(
    runBatch(
      range(50),
      async (n) => {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await Promise.resolve();
        inFlight--;
        return n;
      },
      { concurrency: 3 },
    ),
  );
  assert.equal(maxInFlight, 3);
});

test('ordered: false yields in completion order', async () => {
  const secondSeen = deferred();
  const run = runBatch(
    ['slow', 'fast'],
    async (name) => {
      if (name === 'slow') await secondSeen.promise;
      return name;
    },
    { ordered: false },
  );
  const seen: string[] = [];
  for await (const r of run) {
    seen.push(r.item);
    if (r.item === 'fast') secondSeen.resolve();
  }
  assert.deepEqual(seen, ['fast', 'slow']);
});

test('one item failing never stops the others; non-errors are wrapped', async () => {
  const { results, summary } = await collect(
    runBatch(range(6), (n) => {
      if (n === 2) throw new TypeError('two');
      if (n === 4) throw 'four';
      return n;
    }),
  );
  assert.deepEqual(
    results.map((r) => r.ok),
    [true, true, false, true, false, true],
  );
  const two = results[2] as Extract<BatchResult<number, number>, { ok: false }>;
  assert.ok(two.error instanceof TypeError);
  const four = results[4] as Extract<BatchResult<number, number>, { ok: false }>;
  assert.ok(isCode('TSMR_USER_CODE')(four.error));
  assert.match(four.error.message, /four/);
  assert.equal(summary.failed, 2);
});

test('retries: exponential backoff delays, attempts counted, backoff time in ms', async () => {
  const events: RetryEvent<number>[] = [];
  const calls = new Map<number, number>();
  const { results } = await collect(
    runBatch(
      [0, 1, 2],
      (n, { attempt }) => {
        calls.set(n, attempt);
        if (n === 1 && attempt < 3) throw new Error(`try ${attempt}`); // succeeds on the 3rd
        if (n === 2) throw new Error(`always ${attempt}`);
        return n;
      },
      { retries: 3, backoff: { initialDelay: 5, factor: 3, jitter: 0 }, onRetry: (e) => void events.push(e) },
    ),
  );
  assert.deepEqual(
    results.map((r) => [r.ok, r.attempts]),
    [
      [true, 1],
      [true, 3],
      [false, 4],
    ],
  );
  const failure = results[2] as Extract<BatchResult<number, number>, { ok: false }>;
  assert.equal(failure.error.message, 'always 4');
  assert.deepEqual(
    events.filter((e) => e.index === 2).map((e) => [e.attempt, e.delayMs, e.error.message]),
    [
      [1, 5, 'always 1'],
      [2, 15, 'always 2'],
      [3, 45, 'always 3'],
    ],
  );
  assert.deepEqual(
    events.filter((e) => e.index === 1).map((e) => e.delayMs),
    [5, 15],
  );
  // Timers may fire up to a millisecond early against performance.now(): allow 1 ms per wait.
  assert.ok(results[2]!.ms >= 5 + 15 + 45 - 3, `ms ${results[2]!.ms} includes the backoff waits`);
  assert.equal(calls.get(2), 4);
});

test('retries: jitter draws each delay within [0, cap]; shouldRetry can refuse', async () => {
  const delays: number[] = [];
  await collect(
    runBatch(range(20), () => Promise.reject(new Error('x')), {
      retries: 2,
      backoff: { initialDelay: 4, jitter: 1 },
      onRetry: (e) => void delays.push(e.delayMs / 2 ** (e.attempt - 1)),
    }),
  );
  assert.equal(delays.length, 40);
  assert.ok(delays.every((d) => d >= 0 && d <= 4));
  assert.ok(new Set(delays).size > 30, 'delays are random');

  let attempts = 0;
  const { results } = await collect(
    runBatch(
      [1],
      () => {
        attempts++;
        throw new RangeError('fatal for this item');
      },
      { retries: 5, shouldRetry: (e) => !(e instanceof RangeError) },
    ),
  );
  assert.equal(attempts, 1);
  assert.equal(results[0]!.attempts, 1);
});

test('timeout: a stuck attempt fails with TSMR_TASK_TIMEOUT and its signal is aborted; it is retried', async () => {
  let abortedSignals = 0;
  const { results } = await collect(
    runBatch(
      ['stuck', 'quick'],
      (name, { signal, attempt }) =>
        new Promise<string>((resolve, reject) => {
          if (name === 'quick' || attempt === 2) return resolve(`${name}@${attempt}`);
          signal.addEventListener('abort', () => {
            abortedSignals++;
            reject(signal.reason);
          });
        }),
      { timeout: 20, retries: 1, backoff: { initialDelay: 1 } },
    ),
  );
  assert.deepEqual(
    results.map((r) => (r.ok ? r.value : r.error)),
    ['stuck@2', 'quick@1'],
  );
  assert.equal(results[0]!.attempts, 2);
  assert.equal(abortedSignals, 1);

  const { results: sync } = await collect(
    runBatch(
      [30],
      (ms) => {
        const end = performance.now() + ms;
        while (performance.now() < end); // synchronous: cannot be interrupted on this thread
        return ms;
      },
      { timeout: 5 },
    ),
  );
  assert.equal(sync[0]!.ok, false);
  assert.ok(isCode('TSMR_TASK_TIMEOUT')((sync[0] as { error: Error }).error));
});

test('AbortSignal: iteration throws TSMR_CANCELLED and running attempts are aborted', async () => {
  const controller = new AbortController();
  let started = 0;
  let aborted = 0;
  const allStarted = deferred();
  const run = runBatch(
    range(10),
    (n, { signal }) =>
      new Promise<number>((resolve) => {
        if (n === 0) return resolve(0);
        signal.addEventListener('abort', () => void aborted++);
        if (++started === 3) allStarted.resolve();
      }),
    { concurrency: 4, signal: controller.signal },
  );
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const r of run) {
      seen.push(r.index);
      await allStarted.promise;
      controller.abort(new Error('user said stop'));
    }
  }, isCode('TSMR_CANCELLED'));
  assert.deepEqual(seen, [0]);
  assert.ok(started >= 3);
  assert.equal(aborted, started, 'every running attempt saw its signal abort');

  let called = false;
  const pre = runBatch(
    [1],
    () => {
      called = true;
    },
    { signal: AbortSignal.abort() },
  );
  await assert.rejects(collect(pre), isCode('TSMR_CANCELLED'));
  assert.equal(called, false);
});

test('breaking out of the loop aborts running attempts and closes the input', async () => {
  let closed = false;
  let aborted = 0;
  function* items() {
    try {
      for (let i = 0; ; i++) yield i;
    } finally {
      closed = true;
    }
  }
  const run = runBatch(
    items(),
    (n, { signal }) =>
      new Promise<number>((resolve) => {
        if (n === 0) return resolve(0);
        signal.addEventListener('abort', () => void aborted++);
      }),
    { concurrency: 5 },
  );
  for await (const r of run) {
    assert.equal(r.index, 0);
    break;
  }
  assert.equal(closed, true);
  assert.equal(aborted, 5);
});

test('bounded memory: 10^6 items from a generator, never more than highWaterMark pulled ahead', async () => {
  let produced = 0;
  let consumed = 0;
  let maxAhead = 0;
  function* items() {
    for (let i = 0; i < 1_000_000; i++) {
      produced++;
      maxAhead = Math.max(maxAhead, produced - consumed);
      yield i;
    }
  }
  let sum = 0;
  for await (const r of runBatch(items(), (n: number) => n, { concurrency: 8 })) {
    consumed++;
    if (r.ok) sum += r.value;
  }
  assert.equal(consumed, 1_000_000);
  assert.equal(sum, (1_000_000 * 999_999) / 2);
  // highWaterMark (2 × concurrency = 16) items not yet handed over, plus the one the consumer holds.
  assert.ok(maxAhead <= 17, `pulled ${maxAhead} items ahead of the consumer`);
});

test('ordered output: a slow first item holds back at most highWaterMark items', async () => {
  let produced = 0;
  function* items() {
    for (let i = 0; i < 1000; i++) {
      produced++;
      yield i;
    }
  }
  const release = deferred();
  let othersCalled = 0;
  let producedWhenFull = -1;
  const run = runBatch(
    items(),
    async (n: number) => {
      if (n === 0) {
        await release.promise;
        return n;
      }
      if (++othersCalled === 49) {
        // The window (50) is full of finished items waiting for item 0.
        setImmediate(() => {
          producedWhenFull = produced;
          release.resolve();
        });
      }
      return n;
    },
    { concurrency: 10, highWaterMark: 50 },
  );
  const { results } = await collect(run);
  assert.equal(producedWhenFull, 50);
  assert.deepEqual(
    results.map((r) => r.index),
    range(1000),
  );
});

test('async iterables as input; their errors end the iteration', async () => {
  async function* items() {
    yield 'a';
    yield 'b';
  }
  const { results } = await collect(runBatch(items(), async (s: string) => s.toUpperCase()));
  assert.deepEqual(
    results.map((r) => r.ok && r.value),
    ['A', 'B'],
  );
  async function* broken() {
    yield 1;
    throw new Error('input broke');
  }
  await assert.rejects(collect(runBatch(broken(), (n: number) => n)), /input broke/);
});

test('onProgress: done, failed, total, rate and a final call at 100%', async () => {
  const seen: BatchProgress[] = [];
  await collect(
    runBatch(
      range(20),
      (n) => {
        if (n % 5 === 0) throw new Error('x');
        return n;
      },
      { onProgress: (p) => void seen.push(p), progressInterval: 0 },
    ),
  );
  assert.equal(seen.length, 20);
  assert.deepEqual(
    seen.map((p) => p.done),
    range(20).map((i) => i + 1),
  );
  const last = seen[seen.length - 1]!;
  assert.deepEqual([last.done, last.failed, last.total, last.etaSeconds], [20, 4, 20, 0]);
  assert.ok(last.rate >= 0 && last.elapsedMs >= 0);

  const sparse: BatchProgress[] = [];
  function* gen() {
    yield* range(100);
  }
  await collect(runBatch(gen(), (n: number) => n, { onProgress: (p) => void sparse.push(p), total: 100 }));
  assert.ok(sparse.length >= 1 && sparse.length < 100, `${sparse.length} calls with a 100 ms interval`);
  assert.deepEqual([sparse.at(-1)!.done, sparse.at(-1)!.total], [100, 100]);
});

test('a throwing callback ends the batch with its error', async () => {
  await assert.rejects(
    collect(
      runBatch([1, 2], (n) => n, {
        progressInterval: 0,
        onProgress: () => {
          throw new Error('progress bug');
        },
      }),
    ),
    /progress bug/,
  );
});

test('usage errors are thrown at once; a run is iterated once', () => {
  const fn = (n: number) => n;
  for (const options of [
    { concurrency: 0 },
    { concurrency: 1.5 },
    { retries: -1 },
    { timeout: 0 },
    { batchSize: 0 },
    { highWaterMark: 0 },
    { mode: 'fibers' as never },
    { backoff: { factor: 0 } },
    { progressInterval: -1 },
  ]) {
    assert.throws(() => runBatch([1], fn, options), isCode('TSMR_USAGE'), JSON.stringify(options));
  }
  assert.throws(() => runBatch(5 as never, fn), isCode('TSMR_USAGE'));
  assert.throws(() => runBatch([1], 'fn' as never), isCode('TSMR_USAGE'));
  assert.throws(() => runBatch([1], fn, { mode: 'threads' }), isCode('TSMR_JOB_NOT_IMPORTABLE'));
  const run = runBatch([1], fn);
  run[Symbol.asyncIterator]();
  assert.throws(() => run[Symbol.asyncIterator](), isCode('TSMR_USAGE'));
});

test('empty input: no results, one final progress call', async () => {
  const seen: BatchProgress[] = [];
  const { results } = await collect(runBatch([], (n: number) => n, { onProgress: (p) => void seen.push(p) }));
  assert.deepEqual(results, []);
  assert.deepEqual(
    seen.map((p) => [p.done, p.total]),
    [[0, 0]],
  );
});
