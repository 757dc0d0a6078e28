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
  const rates = new Map<string, RateWindow>();
  let pendingSent = '[]';

  const publishWorkers = (): void => {
    const now = Date.now();
    const status = new Map(registry.status().map((w) => [w.workerId, w]));
    const done = finishedInput(store.state);
    const workers = [...status.values()].map((w): WorkerStatus => {
      const entry = registry.current({ workerId: w.workerId, incarnation: w.incarnation });
      let records = done.get(w.workerId)?.records ?? 0;
      let bytes = done.get(w.workerId)?.bytes ?? 0;
      for (const r of entry?.running.values() ?? []) {
        records += r.records;
        bytes += r.bytes;
      }
      let window = rates.get(w.workerId);
      if (window === undefined) rates.set(w.workerId, (window = new RateWindow(RATE_WINDOW_MS)));
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
    store.publish({ type: 'workers', now, workers });
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
