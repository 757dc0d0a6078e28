import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JobReport, PipelineReport } from '../engine/job-report.ts';
import { renderJobMetrics, renderPipelineMetrics } from './job-metrics.ts';

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

test('a pipeline renders each metric family once, with a sample per step', () => {
  const step = (jobId: string, name: string, status: string): JobReport =>
    ({
      jobId,
      name,
      status,
      durationMs: 1000,
      phases: { map: { durationMs: 1000 } },
      counters: { 'tsmr/MAP_INPUT_RECORDS': 7 },
      attempts: [],
      outputBytes: 0,
      peakRssBytes: 1,
    }) as unknown as JobReport;
  const report = {
    kind: 'pipeline',
    steps: [
      { step: 1, name: 'count', report: step('job-1', 'count', 'succeeded') },
      { step: 2, name: 'top', report: step('job-2', 'top', 'failed') },
    ],
  } as unknown as PipelineReport;
  const text = renderPipelineMetrics(report);
  assert.equal(text.match(/^# TYPE tsmr_job_succeeded gauge$/gm)?.length, 1);
  assert.match(text, /^tsmr_job_succeeded\{job_id="job-1",job="count"\} 1$/m);
  assert.match(text, /^tsmr_job_succeeded\{job_id="job-2",job="top"\} 0$/m);
  assert.equal(text.match(/^tsmr_job_counters_total\{/gm)?.length, 2);
});
