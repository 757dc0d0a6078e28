import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JobReport } from '../engine/job-report.ts';
import { renderJobMetrics } from './job-metrics.ts';

test('a job report renders as Prometheus counters and gauges with job labels', () => {
  const report = {
    jobId: 'job-1',
    name: 'wc',
    status: 'succeeded',
    durationMs: 1500,
    phases: { map: { durationMs: 1000 }, reduce: { durationMs: 250 } },
    counters: { 'tsmr/MAP_INPUT_RECORDS': 42, 'grep/matches': 3 },
    attempts: [{ status: 'failed' }, { status: 'committed' }],
    outputBytes: 10,
    peakRssBytes: 2048,
  } as unknown as JobReport;
  const text = renderJobMetrics(report);
  assert.match(text, /^# TYPE tsmr_job_counters_total counter$/m);
  assert.match(
    text,
    /^tsmr_job_counters_total\{job_id="job-1",job="wc",group="tsmr",name="MAP_INPUT_RECORDS"\} 42$/m,
  );
  assert.match(text, /^tsmr_job_counters_total\{job_id="job-1",job="wc",group="grep",name="matches"\} 3$/m);
  assert.match(text, /^tsmr_job_phase_duration_seconds\{job_id="job-1",job="wc",phase="reduce"\} 0\.25$/m);
  assert.match(text, /^tsmr_job_succeeded\{job_id="job-1",job="wc"\} 1$/m);
  assert.match(text, /^tsmr_job_failed_attempts\{job_id="job-1",job="wc"\} 1$/m);
});
