/**
 * A finished job's report (`_job.json`) as dashboard state, for `tsmr report
 * --html`: the same pages as the live dashboard, for one job, without live
 * workers or a rate history (a report has neither).
 *
 * @module
 */
import type { JobReport } from '../../engine/job-report.ts';
import { attemptKey, type DashboardState } from './model.ts';

export function reportState(report: JobReport): DashboardState {
  const { attempts, ...summary } = report;
  const mapTasks = new Set(attempts.filter((a) => a.taskId.startsWith('m-')).map((a) => a.taskId)).size;
  return {
    source: 'report',
    now: report.finishedAt,
    workers: [],
    pending: [],
    jobs: [
      {
        start: {
          jobId: report.jobId,
          name: report.name,
          startedAt: report.startedAt,
          settings: report.settings,
          tasks: { map: report.phases.map?.tasks ?? mapTasks, reduce: report.settings.reducers },
          workers: report.workers.map((w) => ({ id: w.workerId, slots: w.slots })),
        },
        status: report.status,
        series: [],
        attempts: Object.fromEntries(attempts.map((a) => [attemptKey(a), a])),
        report: summary,
      },
    ],
  };
}
