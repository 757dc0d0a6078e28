import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration } from '../observe/units.ts';
import { parseDuration } from './parse-duration.ts';
import { isTsmrError } from '../errors.ts';

test('parseDuration reads ms, s, m, h and bare numbers', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('2s'), 2000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('2m'), 120_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('250'), 250);
  assert.equal(parseDuration(' 20 MS '), 20);
  assert.equal(parseDuration('0'), 0);
});

test('parseDuration rejects anything else with a usage error', () => {
  for (const bad of ['', 'fast', '-5ms', '5 days', '1e3', '5sec']) {
    assert.throws(
      () => parseDuration(bad),
      (e) => isTsmrError(e) && e.code === 'TSMR_USAGE' && /500ms/.test(e.message),
      bad,
    );
  }
});

test('formatDuration picks a readable unit', () => {
  assert.equal(formatDuration(0.5), '1 ms');
  assert.equal(formatDuration(5), '5 ms');
  assert.equal(formatDuration(850), '850 ms');
  assert.equal(formatDuration(1250), '1.3 s');
  assert.equal(formatDuration(21_340), '21.3 s');
  assert.equal(formatDuration(125_000), '2 min 05 s');
  assert.equal(formatDuration(2 * 3_600_000 + 60_000 * 3), '2 h 03 min');
});
