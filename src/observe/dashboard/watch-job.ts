/**
 * Feeds a running job's events into a {@link DashboardStore}: its start, its
 * progress snapshots, every attempt change, its end (with the report, if it
 * got that far).
 *
 * @module
 */
import type { JobHandle } from '../../runtime/run-job.ts';
import type { DashboardStore } from './store.ts';

/** Publishes `handle`'s events to `store` until the job ends. */
export function watchJob(store: DashboardStore, handle: JobHandle): void {
  let jobId: string | undefined;
  handle.on('started', (start) => {
    jobId = start.jobId;
    store.publish({ type: 'jobStarted', start });
  });
  handle.on('progress', (snapshot) => store.publish({ type: 'progress', snapshot }));
  handle.on('attempt', (attempt) => {
    if (jobId !== undefined) store.publish({ type: 'attempts', jobId, attempts: [attempt] });
  });
  /** The report's status, unless the job failed after its report was made (e.g. in its commit). */
  const ended = (ok: boolean): void => {
    if (jobId === undefined) return;
    const report = handle.report;
    const status = report === undefined || (!ok && report.status === 'succeeded') ? 'failed' : report.status;
    if (report === undefined) return store.publish({ type: 'jobEnded', jobId, status });
    const { attempts: _attempts, ...summary } = report;
    store.publish({ type: 'jobEnded', jobId, status, report: { ...summary, status } });
  };
  handle.done.then(
    () => ended(true),
    () => ended(false),
  );
}
