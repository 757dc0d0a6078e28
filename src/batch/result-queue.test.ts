import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResultQueue } from './result-queue.ts';

test('ordered: a result waits for every earlier index', () => {
  const q = new ResultQueue<{ index: number }>(true);
  q.push({ index: 2 });
  q.push({ index: 1 });
  assert.equal(q.shift(), undefined);
  assert.equal(q.size, 2);
  q.push({ index: 0 });
  assert.deepEqual([q.shift()?.index, q.shift()?.index, q.shift()?.index, q.shift()], [0, 1, 2, undefined]);
  assert.equal(q.size, 0);
});

test('unordered: first finished, first out, over many results', () => {
  const q = new ResultQueue<{ index: number }>(false);
  const out: number[] = [];
  for (let i = 0; i < 5000; i++) {
    q.push({ index: 5000 - i });
    if (i % 3 === 0) out.push(q.shift()!.index);
  }
  for (let r = q.shift(); r !== undefined; r = q.shift()) out.push(r.index);
  assert.equal(out.length, 5000);
  assert.deepEqual(
    out,
    Array.from({ length: 5000 }, (_, i) => 5000 - i),
  );
});
