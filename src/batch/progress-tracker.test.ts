import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProgressTracker } from './progress-tracker.ts';

test('rate and ETA from a steady pace', () => {
  const p = new ProgressTracker(0, 5000);
  let last = p.snapshot(0, 0, 0, 100);
  assert.equal(last.rate, 0);
  assert.equal(last.etaSeconds, undefined);
  for (let t = 100; t <= 2000; t += 100) last = p.snapshot(t, t / 100, 0, 100);
  assert.equal(last.done, 20);
  assert.ok(Math.abs(last.rate - 10) < 1e-9, `rate ${last.rate}`);
  assert.ok(Math.abs(last.etaSeconds! - 8) < 1e-9, `eta ${last.etaSeconds}`);
  assert.equal(last.elapsedMs, 2000);
});

test('the rate follows a change of pace once the window has passed', () => {
  const p = new ProgressTracker(0, 1000);
  let done = 0;
  for (let t = 100; t <= 3000; t += 100) p.snapshot(t, (done += 10), 0, undefined); // 100/s
  let last = p.snapshot(3000, done, 0, undefined);
  for (let t = 3100; t <= 6000; t += 100) last = p.snapshot(t, (done += 1), 0, undefined); // 10/s
  assert.ok(Math.abs(last.rate - 10) < 1.5, `rate ${last.rate}`);
  assert.equal(last.total, undefined);
  assert.equal(last.etaSeconds, undefined);
});

test('ETA is 0 when everything is done and undefined without a rate', () => {
  const p = new ProgressTracker(0);
  assert.equal(p.snapshot(0, 0, 0, 0).etaSeconds, 0);
  assert.equal(p.snapshot(1000, 5, 2, 5).etaSeconds, 0);
  assert.equal(p.snapshot(1000, 5, 2, 5).failed, 2);
});
