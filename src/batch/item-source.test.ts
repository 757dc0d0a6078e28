import assert from 'node:assert/strict';
import { test } from 'node:test';
import { itemSource } from './item-source.ts';
import { isTsmrError } from '../errors.ts';

test('arrays and sets report their size and pull synchronously', () => {
  const a = itemSource([1, 2]);
  assert.equal(a.size, 2);
  assert.deepEqual(a.next(), { value: 1, done: false });
  assert.equal(itemSource(new Set(['x'])).size, 1);
  assert.equal(
    itemSource(
      (function* () {
        yield 1;
      })(),
    ).size,
    undefined,
  );
});

test('async iterables pull through promises; close runs the generator finally', async () => {
  let closed = false;
  async function* gen() {
    try {
      yield 1;
      yield 2;
    } finally {
      closed = true;
    }
  }
  const s = itemSource(gen());
  assert.deepEqual(await s.next(), { value: 1, done: false });
  await s.close();
  assert.equal(closed, true);
});

test('non-iterables are a usage error', () => {
  assert.throws(
    () => itemSource(42 as never),
    (e) => isTsmrError(e) && e.code === 'TSMR_USAGE',
  );
});
