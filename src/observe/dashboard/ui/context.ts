/**
 * What every page is rendered from: the state, the live views of phases, the
 * connection, and the routes between pages.
 *
 * @module
 */
import type { TaskPhase } from '../views.ts';
import type { PhaseView } from '../../phase-view.ts';
import type { DashboardState, JobView } from '../model.ts';
import { reportPhaseView } from '../views.ts';

/** `ended`: a local run's server went away after its jobs ended (the page keeps their last state). */
export type Connection = 'connecting' | 'live' | 'reconnecting' | 'ended' | 'report';

export interface PageContext {
  state: DashboardState;
  /** Job id → its phases as last derived from its progress snapshots (absent for a report). */
  phases: ReadonlyMap<string, Record<TaskPhase, PhaseView>>;
  connection: Connection;
  /** Width available to the page's content, px. */
  width: number;
}

/** In-page links. Ids are URI-encoded (they are data). */
export const routes = {
  overview: (): string => '#/',
  job: (jobId: string): string => `#/job/${encodeURIComponent(jobId)}`,
  attempt: (jobId: string, attemptId: string): string =>
    `#/job/${encodeURIComponent(jobId)}/attempt/${encodeURIComponent(attemptId)}`,
  worker: (workerId: string): string => `#/worker/${encodeURIComponent(workerId)}`,
};

export type Route =
  | { page: 'overview' }
  | { page: 'job'; jobId: string; attemptId?: string }
  | { page: 'worker'; workerId: string };

/** The route of a location hash (anything unknown: the overview). */
export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (parts[0] === 'job' && parts[1]) {
    return parts[2] === 'attempt' && parts[3]
      ? { page: 'job', jobId: parts[1], attemptId: parts[3] }
      : { page: 'job', jobId: parts[1] };
  }
  if (parts[0] === 'worker' && parts[1]) return { page: 'worker', workerId: parts[1] };
  return { page: 'overview' };
}

/** A job's phases: live, from its snapshots, else from its report (or pending). */
export function phasesOf(ctx: PageContext, job: JobView): Record<TaskPhase, PhaseView> {
  return (
    ctx.phases.get(job.start.jobId) ?? {
      map: reportPhaseView(job, 'map'),
      reduce: reportPhaseView(job, 'reduce'),
    }
  );
}
