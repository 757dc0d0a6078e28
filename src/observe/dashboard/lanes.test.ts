import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AttemptView } from './model.ts';
import { assignLanes } from './lanes.ts';

function at(taskId: string, worker: string, startedAt: number, finishedAt?: number): AttemptView {
  return { taskId, attempt: 0, worker, startedAt, finishedAt, status: finishedAt ? 'committed' : 'running' };
}

test('attempts go to the lowest row free at their start, per worker; running ones hold their row', () => {
  const { lane, rows } = assignLanes([
    at('m-00002', 'w1', 5, 12),
    at('m-00000', 'w1', 0, 10),
    at('m-00001', 'w1', 0),
    at('m-00003', 'w1', 10, 20),
    at('m-00004', 'w2', 3, 4),
    at('m-00005', 'w1', 12, 13),
  ]);
  assert.deepEqual(Object.fromEntries(lane), {
    'm-00000_0': 0,
    'm-00001_0': 1,
    'm-00002_0': 2,
    'm-00003_0': 0,
    'm-00004_0': 0,
    'm-00005_0': 2,
  });
  assert.deepEqual(
    [...rows],
    [
      ['w1', 3],
      ['w2', 1],
    ],
  );
});

test('rows never hold overlapping attempts, and never more rows than the most attempts at once', () => {
  const attempts: AttemptView[] = [];
  let seed = 7;
  const next = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  for (let i = 0; i < 300; i++) {
    const start = Math.floor(next() * 1000);
    attempts.push(at(`m-${String(i).padStart(5, '0')}`, 'w', start, start + 1 + Math.floor(next() * 50)));
  }
  const { lane, rows } = assignLanes(attempts);
  let most = 0;
  for (const a of attempts) {
    const overlapping = attempts.filter((b) => b.startedAt <= a.startedAt && b.finishedAt! > a.startedAt);
    most = Math.max(most, overlapping.length);
    for (const b of overlapping) {
      if (b !== a) assert.notEqual(lane.get(`${a.taskId}_0`), lane.get(`${b.taskId}_0`));
    }
  }
  assert.equal(rows.get('w'), most);
});
