import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WorkerRow } from './dashboard/views.ts';
import { formatWorkerTable } from './worker-table.ts';

const row: WorkerRow = {
  workerId: 'local',
  state: 'alive',
  slots: 4,
  lastHeartbeatAt: 0,
  heartbeatAgeMs: 0,
  cpuPercent: 180,
  rssBytes: 412 * 2 ** 20,
  recordsPerSec: 1.2e6,
  bytesPerSec: 50e6,
  shuffleBytesServed: 0,
  running: ['m-00012_0', 'm-00013_0', 'm-00014_1', 'm-00015_0'],
  attempts: 17,
  done: 11,
  failed: 2,
};

test('the worker table: a header and one aligned row per worker, at most three running attempts named', () => {
  assert.deepEqual(
    formatWorkerTable([row, { ...row, workerId: 'w-2', state: 'suspect', running: [], done: 0 }]),
    [
      'worker  state    slots  running                           done  failed   records/s      RSS',
      'local   alive      4/4  m-00012_0 m-00013_0 m-00014_1 +1    11       2  1.2M rec/s  412 MiB',
      'w-2     suspect    0/4  -                                    0       2  1.2M rec/s  412 MiB',
    ],
  );
});
