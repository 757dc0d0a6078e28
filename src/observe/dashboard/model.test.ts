import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JobStart, ProgressSnapshot } from '../../engine/job-report.ts';
import {
  applyUpdate,
  type AttemptView,
  type DashboardUpdate,
  emptyState,
  MAX_JOBS,
  MAX_SAMPLES,
  mergeUpdate,
} from './model.ts';

function start(jobId: string): JobStart {
  return {
    jobId,
    name: 'wc',
    startedAt: 0,
    settings: {
      inputs: ['in'],
      workers: 2,
      reducers: 1,
      splitSize: 1,
      sortBufferBytes: 1,
      mergeFanIn: 2,
      maxAttempts: 4,
      taskTimeoutMs: 0,
      params: {},
    },
    tasks: { map: 2, reduce: 1 },
    workers: [{ id: 'local', slots: 2 }],
  };
}

function progress(jobId: string, now: number, mapBytes: number): ProgressSnapshot {
  const phase = { tasksTotal: 2, tasksDone: 0, tasksRunning: 1, bytesTotal: 100, records: mapBytes };
  return {
    jobId,
    now,
    startedAt: 0,
    phases: {
      map: { ...phase, phase: 'map', bytesDone: mapBytes },
      reduce: { ...phase, phase: 'reduce', bytesDone: 0 },
    },
    failedAttempts: 0,
    stalled: [],
    taskTimeoutMs: 0,
  };
}

const attempt = (status: AttemptView['status']): AttemptView => ({
  taskId: 'm-00000',
  attempt: 0,
  worker: 'local',
  startedAt: 1,
  status,
});

test('applyUpdate builds a job from its start, progress, attempts and end; applying twice changes nothing more', () => {
  const updates: DashboardUpdate[] = [
    { type: 'jobStarted', start: start('j1') },
    { type: 'progress', snapshot: progress('j1', 1000, 10) },
    { type: 'attempts', jobId: 'j1', attempts: [attempt('running')] },
    { type: 'progress', snapshot: progress('j1', 1500, 20) },
    { type: 'progress', snapshot: progress('j1', 2100, 30) },
    { type: 'attempts', jobId: 'j1', attempts: [attempt('committed')] },
    { type: 'jobEnded', jobId: 'j1', status: 'succeeded' },
    { type: 'attempts', jobId: 'nope', attempts: [attempt('failed')] },
  ];
  const once = emptyState('local', 0);
  for (const u of updates) applyUpdate(once, u);
  const twice = structuredClone(once);
  for (const u of updates) applyUpdate(twice, u);
  assert.deepEqual(twice, once);
  const [job] = once.jobs;
  assert.equal(once.jobs.length, 1);
  assert.equal(job!.status, 'succeeded');
  assert.deepEqual(Object.keys(job!.attempts), ['m-00000_0']);
  assert.equal(job!.attempts['m-00000_0']!.status, 'committed');
  assert.deepEqual(
    job!.series.map((s) => [s.t, s.mapBytes]),
    [
      [1000, 10],
      [2100, 30],
    ],
    'at most a sample a second',
  );
  assert.equal(once.now, 2100);
});

test('a long series is thinned, and old finished jobs make room for new ones', () => {
  const state = emptyState('cluster', 0);
  applyUpdate(state, { type: 'jobStarted', start: start('long') });
  for (let i = 0; i < MAX_SAMPLES + 10; i++)
    applyUpdate(state, { type: 'progress', snapshot: progress('long', i * 1000, i) });
  const series = state.jobs[0]!.series;
  assert.ok(series.length < MAX_SAMPLES && series.length > MAX_SAMPLES / 2 - 10, String(series.length));
  assert.equal(series.at(-1)!.mapBytes, MAX_SAMPLES + 9);
  for (let i = 0; i < MAX_JOBS + 5; i++) {
    applyUpdate(state, { type: 'jobStarted', start: start(`j${i}`) });
    if (i % 2 === 0) applyUpdate(state, { type: 'jobEnded', jobId: `j${i}`, status: 'failed' });
  }
  assert.equal(state.jobs.length, MAX_JOBS);
  assert.equal(state.jobs[0]!.start.jobId, 'long', 'a running job stays while finished ones can go');
});

test('mergeUpdate keeps the newest workers list and snapshot per job, and joins attempts of one job', () => {
  const pending: DashboardUpdate[] = [];
  mergeUpdate(pending, { type: 'workers', now: 1, workers: [] });
  mergeUpdate(pending, { type: 'progress', snapshot: progress('a', 1, 1) });
  mergeUpdate(pending, { type: 'attempts', jobId: 'a', attempts: [attempt('running')] });
  mergeUpdate(pending, { type: 'attempts', jobId: 'a', attempts: [attempt('failed')] });
  mergeUpdate(pending, { type: 'progress', snapshot: progress('b', 2, 2) });
  mergeUpdate(pending, { type: 'progress', snapshot: progress('a', 3, 3) });
  mergeUpdate(pending, { type: 'workers', now: 4, workers: [] });
  assert.deepEqual(
    pending.map((u) =>
      u.type === 'progress'
        ? `progress ${u.snapshot.jobId}@${u.snapshot.now}`
        : u.type === 'attempts'
          ? `attempts ×${u.attempts.length}`
          : `${u.type}`,
    ),
    ['attempts ×2', 'progress b@2', 'progress a@3', 'workers'],
  );
});
