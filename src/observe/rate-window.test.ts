import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateWindow } from './rate-window.ts';

test('RateWindow: rates over the window once it spans minSpanMs; older samples drop out', () => {
  const w = new RateWindow(10_000);
  assert.equal(w.rates(0), undefined);
  w.add(0, [0, 0]);
  w.add(1000, [100, 10]);
  assert.equal(w.rates(2000), undefined);
  assert.deepEqual(w.rates(1000), [100, 10]);
  w.add(2000, [300, 20]);
  assert.deepEqual(w.rates(2000), [150, 10]);
  for (let t = 3000; t <= 20_000; t += 1000) w.add(t, [300 + (t - 2000), 20]);
  assert.deepEqual(w.rates(2000), [1000, 0], 'only the last 10 s count');
});
