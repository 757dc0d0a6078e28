import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collect, consume, summarize } from './summary.ts';
import type { BatchResult } from './types.ts';

function result(index: number, ok: boolean, attempts: number, ms: number): BatchResult<number, number> {
  return ok
    ? { index, item: index, ok, value: index, attempts, ms }
    : { index, item: index, ok, error: new Error('x'), attempts, ms };
}

test('summarize counts, throughput and latency', () => {
  const results = [
    result(0, true, 1, 10),
    result(1, false, 3, 30),
    result(2, true, 2, 20),
    result(3, true, 1, 40),
  ];
  const s = summarize(results, 2000);
  assert.equal(s.count, 4);
  assert.equal(s.succeeded, 3);
  assert.equal(s.failed, 1);
  assert.equal(s.retried, 2);
  assert.equal(s.attempts, 7);
  assert.equal(s.throughput, 2);
  assert.equal(s.latency.min, 10);
  assert.equal(s.latency.max, 40);
  assert.equal(s.latency.mean, 25);
  assert.ok(Math.abs(s.latency.p50 - 20) < 0.1, `p50 ${s.latency.p50}`);
  assert.equal(s.latency.p99, 40);
});

test('an empty batch has zero throughput, not NaN', () => {
  const s = summarize([], 0);
  assert.equal(s.count, 0);
  assert.equal(s.throughput, 0);
  assert.equal(s.latency.p50, 0);
});

test('collect keeps results in order; consume passes them on and keeps none', async () => {
  async function* run() {
    yield result(0, true, 1, 1);
    yield result(1, false, 1, 2);
  }
  const { results, summary } = await collect(run());
  assert.deepEqual(
    results.map((r) => r.index),
    [0, 1],
  );
  assert.equal(summary.failed, 1);
  assert.ok(summary.durationMs >= 0);
  const seen: number[] = [];
  const s2 = await consume(run(), (r) => void seen.push(r.index));
  assert.deepEqual(seen, [0, 1]);
  assert.equal(s2.count, 2);
});
