import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, normalizeBackoff } from './backoff.ts';
import { isTsmrError } from '../errors.ts';

test('delays grow geometrically up to maxDelay without jitter', () => {
  const b = normalizeBackoff({ initialDelay: 10, factor: 3, maxDelay: 200, jitter: 0 });
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((r) => backoffDelay(r, b)),
    [10, 30, 90, 200, 200],
  );
});

test('full jitter draws from (0, cap]; partial jitter from [cap × (1 − j), cap]', () => {
  const full = normalizeBackoff({ initialDelay: 100 });
  assert.equal(
    backoffDelay(2, full, () => 0),
    200,
  );
  assert.equal(
    backoffDelay(2, full, () => 0.75),
    50,
  );
  const half = normalizeBackoff({ initialDelay: 100, jitter: 0.5 });
  assert.equal(backoffDelay(1, half, () => 0.999999) > 50, true);
  assert.equal(
    backoffDelay(1, half, () => 0),
    100,
  );
  for (let i = 0; i < 100; i++) {
    const d = backoffDelay(3, full);
    assert.ok(d > 0 && d <= 400, `delay ${d} outside (0, 400]`);
  }
});

test('defaults and validation', () => {
  assert.deepEqual(normalizeBackoff({ factor: undefined }), {
    initialDelay: 100,
    factor: 2,
    maxDelay: 30_000,
    jitter: 1,
  });
  for (const bad of [{ initialDelay: -1 }, { factor: 0.5 }, { jitter: 2 }, { maxDelay: Number.NaN }]) {
    assert.throws(
      () => normalizeBackoff(bad),
      (e) => isTsmrError(e) && e.code === 'TSMR_USAGE',
    );
  }
});
