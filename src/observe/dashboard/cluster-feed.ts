/**
 * Feeds a coordinator's {@link DashboardStore}: its workers (from the
 * {@link WorkerRegistry}: state, heartbeat, slots, attempts run and failed,
 * map outputs held, bytes served, input rates), and its jobs (each running
 * job's handle through {@link watchJob}; queued ones, and ones that ended
 * before they started, as {@link PendingJob}s).
 *
 * Workers are published when one joins or is lost (at once: a dead worker
 * shows without waiting for a sample) and every `intervalMs` (heartbeat ages,
 * `suspect`, rates). A cluster worker's heartbeat carries no CPU or memory
 * figures, so those stay unknown.
 *
 * @module
 */
import type { ClusterJobs } from '../../runtime/cluster/cluster-jobs.ts';
import type { WorkerStatus as ClusterWorkerStatus } from '../../runtime/cluster/wire-status.ts';
import type { WorkerRegistry } from '../../runtime/cluster/worker-registry.ts';
import { RateWindow } from '../rate-window.ts';
import type { DashboardState, PendingJob, WorkerStatus } from './model.ts';
import { MAX_JOBS } from './model.ts';
import type { DashboardStore } from './store.ts';
import { attemptsOf } from './views.ts';

/** Rates of the worker table are taken over this much recent time. */
const RATE_WINDOW_MS = 5000;

export interface ClusterFeed {
  /** Publishes the workers and the pending jobs now (also done every `intervalMs`). */
  sample(): void;
  /** Stops the timer and the registry listeners. Idempotent. */
  stop(): void;
}

/** Starts feeding `store` from `registry` and `jobs` (the timer does not keep the process alive). */
export function feedClusterDashboard(
  store: DashboardStore,
  registry: WorkerRegistry,
  jobs: ClusterJobs,
  intervalMs = 1000,
): ClusterFeed {
  const workers = new ClusterWorkerViews();
  let pendingSent = '[]';

  const publishWorkers = (): void => {
    const running = (w: ClusterWorkerStatus) =>
      registry.current({ workerId: w.workerId, incarnation: w.incarnation })?.running.values() ?? [];
    store.publish({
      type: 'workers',
      now: Date.now(),
      workers: workers.views(registry.status(), store.state, running),
    });
  };

  const publishPending = (): void => {
    const started = new Set(store.state.jobs.map((j) => j.start.jobId));
    const pending: PendingJob[] = [];
    for (const j of jobs.list()) {
      if (started.has(j.jobId) || (j.ended && j.report !== undefined) || j.state === 'succeeded') continue;
      pending.push({
        jobId: j.jobId,
        name: j.name,
        submittedAt: j.submittedAt,
        state: j.state === 'running' ? 'starting' : j.state,
        ...(j.error === undefined ? {} : { error: j.error.message }),
      });
    }
    pending.splice(0, Math.max(0, pending.length - MAX_JOBS));
    const text = JSON.stringify(pending);
    if (text === pendingSent) return;
    pendingSent = text;
    store.publish({ type: 'pending', pending });
  };

  const sample = (): void => {
    publishPending();
    publishWorkers();
  };
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  registry.on('joined', publishWorkers);
  registry.on('lost', publishWorkers);
  sample();
  return {
    sample,
    stop() {
      clearInterval(timer);
      registry.off('joined', publishWorkers);
      registry.off('lost', publishWorkers);
    },
  };
}

/**
 * Cluster workers (as `GetStatus` tells them) as the dashboard shows them,
 * with input rates: from the ended attempts the dashboard state holds, plus
 * what running attempts read so far when that is known (the coordinator has
 * it from heartbeats; a client does not).
 */
export class ClusterWorkerViews {
  readonly #rates = new Map<string, RateWindow>();

  views(
    status: readonly ClusterWorkerStatus[],
    state: Readonly<DashboardState>,
    running: (w: ClusterWorkerStatus) => Iterable<{ records: number; bytes: number }> = () => [],
    now = Date.now(),
  ): WorkerStatus[] {
    const done = finishedInput(state);
    return status.map((w): WorkerStatus => {
      let records = done.get(w.workerId)?.records ?? 0;
      let bytes = done.get(w.workerId)?.bytes ?? 0;
      for (const r of running(w)) {
        records += r.records;
        bytes += r.bytes;
      }
      let window = this.#rates.get(w.workerId);
      if (window === undefined) this.#rates.set(w.workerId, (window = new RateWindow(RATE_WINDOW_MS)));
      window.add(now, [records, bytes]);
      const [recordsPerSec = 0, bytesPerSec = 0] = w.state === 'dead' ? [] : (window.rates(0) ?? []);
      return {
        workerId: w.workerId,
        state: w.state,
        slots: w.slotsTotal,
        lastHeartbeatAt: w.lastHeartbeatAt,
        recordsPerSec,
        bytesPerSec,
        shuffleBytesServed: w.shuffleBytesServed,
        cluster: {
          incarnation: w.incarnation,
          hostName: w.hostName,
          pid: w.pid,
          registeredAt: w.registeredAt,
          attemptsRun: w.attemptsRun,
          attemptsFailed: w.attemptsFailed,
          mapOutputsHeld: w.mapOutputsHeld,
        },
      };
    });
  }
}

/**
 * `tsmr submit --wait` with `--dashboard` or `--monitor-workers`: the
 * cluster's workers, from `status` (the coordinator's `GetStatus`) every
 * `intervalMs`, into `store` (whose jobs come from the job's watch stream).
 * A failed call is skipped (the next one may work). Returns the stop function.
 */
export function sampleClusterWorkers(
  store: DashboardStore,
  status: () => Promise<{ workers: ClusterWorkerStatus[] }>,
  intervalMs = 1000,
): () => void {
  const views = new ClusterWorkerViews();
  const sample = (): void => {
    status().then(
      (s) =>
        store.publish({ type: 'workers', now: Date.now(), workers: views.views(s.workers, store.state) }),
      () => {},
    );
  };
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  sample();
  return () => clearInterval(timer);
}

/** Input records and bytes of the ended attempts of every job, by worker. */
function finishedInput(state: Readonly<DashboardState>): Map<string, { records: number; bytes: number }> {
  const by = new Map<string, { records: number; bytes: number }>();
  for (const job of state.jobs) {
    for (const a of attemptsOf(job)) {
      if (a.finishedAt === undefined) continue;
      const t = by.get(a.worker) ?? { records: 0, bytes: 0 };
      t.records += a.inputRecords ?? 0;
      t.bytes += a.inputBytes ?? 0;
      by.set(a.worker, t);
    }
  }
  return by;
}
