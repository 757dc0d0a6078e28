import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isAttemptId, isJobId, isTaskId } from './ids.ts';

test('job ids: only the form runJob makes', () => {
  assert.ok(isJobId('job-20261201-121943-a1b2c3'));
  for (const id of ['job-1', 'job-20261201-121943-A1B2C3', 'job-20261201-121943-a1b2c3 ', '../etc', '']) {
    assert.ok(!isJobId(id), id);
  }
});

test('task ids: canonical, of the kind asked for', () => {
  for (const id of ['m-00003', 'r-00000', 'm-123456']) assert.ok(isTaskId(id), id);
  for (const id of ['m-3', 'm-000003', 'x-00003', 'm-00003_1', 'm-1234567890']) assert.ok(!isTaskId(id), id);
  assert.ok(isTaskId('r-00001', 'reduce'));
  assert.ok(!isTaskId('r-00001', 'map'));
});

test('attempt ids: canonical, of the kind asked for', () => {
  for (const id of ['m-00003_1', 'm-00000_0', 'm-123456_12', 'r-00001_0']) assert.ok(isAttemptId(id), id);
  for (const id of ['m-3_1', 'm-00003_01', 'm-00003', 'm-00003_1 ', 'm-99999999999999999999_1']) {
    assert.ok(!isAttemptId(id), id);
  }
  assert.ok(isAttemptId('m-00003_1', 'map'));
  assert.ok(!isAttemptId('r-00003_1', 'map'));
});
