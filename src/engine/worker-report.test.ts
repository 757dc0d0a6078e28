import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AttemptRecord } from './job-report.ts';
import { workerReports } from './worker-report.ts';

test('workerReports sums each worker’s attempts: committed tasks, failures, kills, busy time, input read', () => {
  const attempts: AttemptRecord[] = [
    {
      taskId: 'm-00000',
      attempt: 0,
      worker: 'a',
      startedAt: 0,
      finishedAt: 10,
      status: 'failed',
      inputBytes: 5,
      inputRecords: 1,
    },
    {
      taskId: 'm-00000',
      attempt: 1,
      worker: 'b',
      startedAt: 10,
      finishedAt: 30,
      status: 'committed',
      inputBytes: 50,
      inputRecords: 9,
    },
    {
      taskId: 'm-00001',
      attempt: 0,
      worker: 'a',
      startedAt: 0,
      finishedAt: 40,
      status: 'committed',
      inputBytes: 60,
      inputRecords: 7,
    },
    { taskId: 'r-00000', attempt: 0, worker: 'a', startedAt: 40, status: 'running' },
    { taskId: 'r-00001', attempt: 0, worker: 'gone', startedAt: 40, finishedAt: 45, status: 'killed' },
  ];
  assert.deepEqual(
    workerReports(
      [
        { id: 'a', slots: 2 },
        { id: 'b', slots: 1 },
        { id: 'idle', slots: 4 },
      ],
      attempts,
      50,
    ),
    [
      {
        workerId: 'a',
        slots: 2,
        tasks: 1,
        attempts: 3,
        failedAttempts: 1,
        killedAttempts: 0,
        busyMs: 60,
        records: 8,
        bytes: 65,
      },
      {
        workerId: 'b',
        slots: 1,
        tasks: 1,
        attempts: 1,
        failedAttempts: 0,
        killedAttempts: 0,
        busyMs: 20,
        records: 9,
        bytes: 50,
      },
      {
        workerId: 'idle',
        slots: 4,
        tasks: 0,
        attempts: 0,
        failedAttempts: 0,
        killedAttempts: 0,
        busyMs: 0,
        records: 0,
        bytes: 0,
      },
      {
        workerId: 'gone',
        slots: 0,
        tasks: 0,
        attempts: 1,
        failedAttempts: 0,
        killedAttempts: 1,
        busyMs: 5,
        records: 0,
        bytes: 0,
      },
    ],
  );
});
