import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from './seeded-random.ts';

test('same seed and keys, same number; in [0, 1)', () => {
  assert.equal(seededRandom(7, 1, 2), seededRandom(7, 1, 2));
  assert.notEqual(seededRandom(7, 1, 2), seededRandom(8, 1, 2));
  assert.notEqual(seededRandom(7, 1, 2), seededRandom(7, 2, 1));
  for (let i = 0; i < 1000; i++) {
    const r = seededRandom(1, i);
    assert.ok(r >= 0 && r < 1);
  }
});

test('roughly uniform: each tenth gets about a tenth of 100 000 draws', () => {
  const bins = new Array<number>(10).fill(0);
  for (let i = 0; i < 100_000; i++) bins[Math.floor(seededRandom(42, i) * 10)]!++;
  for (const b of bins) assert.ok(b > 9_500 && b < 10_500, `bin ${b}`);
});
