/**
 * The timeline's axis span while a job runs: steps of 1, 1.5, 2, 3, 5 and
 * 7.5 times a power of ten seconds, so that finished bars stay in place
 * between steps.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { niceSpanMs } from './timeline.ts';

test('niceSpanMs: the next step at or above the elapsed time, at least 10 s', () => {
  assert.equal(niceSpanMs(0), 10_000);
  assert.equal(niceSpanMs(10_000), 10_000);
  assert.equal(niceSpanMs(10_001), 15_000);
  assert.equal(niceSpanMs(31_000), 50_000);
  assert.equal(niceSpanMs(76_000), 100_000);
  assert.equal(niceSpanMs(3_600_000), 5_000_000);
  for (let ms = 10_000; ms < 10_000_000; ms *= 1.09) {
    assert.ok(niceSpanMs(ms) >= ms && niceSpanMs(ms) <= ms * (5 / 3), String(ms));
  }
});
