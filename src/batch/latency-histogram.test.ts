import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LatencyHistogram } from './latency-histogram.ts';

function close(actual: number, expected: number, relative = 0.006): void {
  assert.ok(
    Math.abs(actual - expected) <= expected * relative,
    `${actual} is not within ${relative} of ${expected}`,
  );
}

test('percentiles within 0.5% of the exact nearest-rank values', () => {
  const h = new LatencyHistogram();
  const values: number[] = [];
  for (let i = 1; i <= 10_000; i++) values.push(((i * 7919) % 10_007) / 10 + 0.05);
  for (const v of values) h.record(v);
  values.sort((a, b) => a - b);
  for (const p of [1, 50, 90, 99, 99.9])
    close(h.percentile(p), values[Math.ceil((p / 100) * values.length) - 1]!);
  assert.equal(h.min, values[0]);
  assert.equal(h.max, values[values.length - 1]);
  assert.equal(h.percentile(100), h.max);
  close(h.mean, values.reduce((a, b) => a + b, 0) / values.length, 1e-9);
});

test('one sample is every percentile; empty is zeros', () => {
  const h = new LatencyHistogram();
  assert.equal(h.percentile(50), 0);
  assert.equal(h.mean, 0);
  h.record(20.5);
  assert.equal(h.percentile(1), 20.5);
  assert.equal(h.percentile(99), 20.5);
  assert.equal(h.count, 1);
});

test('zero, tiny and huge values are kept in range', () => {
  const h = new LatencyHistogram();
  h.record(0);
  h.record(-3);
  h.record(1e12);
  assert.equal(h.min, 0);
  assert.equal(h.percentile(50), 0);
  assert.equal(h.percentile(100), 1e12);
});
