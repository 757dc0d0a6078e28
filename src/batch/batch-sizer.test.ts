import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchSizer } from './batch-sizer.ts';

test('auto starts at 1 and sizes batches so messaging is at most 2% of the work', () => {
  const s = new BatchSizer({ size: 'auto', threads: 2 });
  assert.equal(s.size, 1);
  // 1 item of 0.1 ms work, round trip 0.5 ms → 0.5 / (0.02 × 0.1) = 250 items.
  s.observe(1, 0.1, 0.5);
  assert.equal(s.size, 250);
  assert.equal(s.roundTripMs, 0.5);
  // Overhead share = 0.5 / (250 × 0.1) = 2%.
  s.observe(250, 25, 0.5);
  assert.equal(s.size, 250);
});

test('slow items go one per message; the smallest round trip seen is kept', () => {
  const s = new BatchSizer({ size: 'auto', threads: 4 });
  s.observe(1, 50, 100); // thread start-up inflates the first round trip
  s.observe(1, 50, 0.2);
  assert.equal(s.roundTripMs?.toFixed(1), '0.2');
  assert.equal(s.size, 1);
});

test('known totals cap the size so every thread gets several batches', () => {
  const s = new BatchSizer({ size: 'auto', threads: 2, total: 1600 });
  s.observe(1, 0.001, 1);
  assert.equal(s.size, 100);
  const big = new BatchSizer({ size: 'auto', threads: 2, maxSize: 500 });
  big.observe(1, 0.0001, 1);
  assert.equal(big.size, 500);
});

test('a fixed size never changes', () => {
  const s = new BatchSizer({ size: 32, threads: 2 });
  s.observe(1, 0.001, 5);
  assert.equal(s.size, 32);
  assert.ok(s.itemMs !== undefined);
});
