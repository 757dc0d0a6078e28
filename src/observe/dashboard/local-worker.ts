/**
 * Local mode's one worker, `local` (this process; its slots are the job's
 * threads), sampled once a second into a {@link DashboardStore}: CPU and RSS
 * of the process (threads have no CPU or memory of their own to report),
 * input rates from the jobs' progress, and the map output bytes that reduce
 * attempts read (in place: nothing goes over a network in local mode).
 *
 * @module
 */
import { LOCAL_WORKER_ID } from '../../runtime/local/local-executor.ts';
import { RateWindow } from '../rate-window.ts';
import type { DashboardState, WorkerStatus } from './model.ts';
import type { DashboardStore } from './store.ts';
import { attemptsOf } from './views.ts';

/** Rates of the worker table are taken over this much recent time. */
const RATE_WINDOW_MS = 5000;

export interface LocalWorkerSampler {
  /** Samples now (also done every `intervalMs`) and publishes the worker. */
  sample(): void;
  /** Stops sampling. Idempotent. */
  stop(): void;
}

/**
 * Starts sampling this process as worker `local` every `intervalMs` (default
 * 1000; the timer does not keep the process alive). Its slots are those the
 * latest job announced for `local` (0 before a job started).
 */
export function sampleLocalWorker(store: DashboardStore, intervalMs = 1000): LocalWorkerSampler {
  const rates = new RateWindow(RATE_WINDOW_MS);
  let cpu = process.cpuUsage();
  let cpuAt = performance.now();
  const sample = (): void => {
    const now = Date.now();
    const elapsedMs = performance.now() - cpuAt;
    const used = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    cpuAt = performance.now();
    const state = store.state;
    const { records, bytes, served } = totals(state);
    rates.add(now, [records, bytes]);
    const [recordsPerSec = 0, bytesPerSec = 0] = rates.rates(0) ?? [];
    const worker: WorkerStatus = {
      workerId: LOCAL_WORKER_ID,
      state: 'alive',
      slots: slotsOf(state),
      lastHeartbeatAt: now,
      cpuPercent: elapsedMs > 0 ? ((used.user + used.system) / 1000 / elapsedMs) * 100 : 0,
      rssBytes: process.memoryUsage.rss(),
      recordsPerSec,
      bytesPerSec,
      shuffleBytesServed: served,
    };
    store.publish({ type: 'workers', now, workers: [worker] });
  };
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  // A job's start announces the slots: show them at once.
  const unsubscribe = store.subscribe((update) => {
    if (update.type === 'jobStarted') sample();
  });
  sample();
  return {
    sample,
    stop() {
      clearInterval(timer);
      unsubscribe();
    },
  };
}

function slotsOf(state: Readonly<DashboardState>): number {
  for (let i = state.jobs.length - 1; i >= 0; i--) {
    const w = state.jobs[i]!.start.workers.find((w) => w.id === LOCAL_WORKER_ID);
    if (w !== undefined) return w.slots;
  }
  return 0;
}

/** Input read so far by every job (committed and running attempts), and segment bytes read by ended reduce attempts. */
function totals(state: Readonly<DashboardState>): { records: number; bytes: number; served: number } {
  let records = 0;
  let bytes = 0;
  let served = 0;
  for (const job of state.jobs) {
    const p = job.progress?.phases;
    if (p !== undefined) {
      records += p.map.records + p.reduce.records;
      bytes += p.map.bytesDone + p.reduce.bytesDone;
    }
    for (const a of attemptsOf(job)) {
      if (a.taskId.startsWith('r-') && a.finishedAt !== undefined) served += a.inputBytes ?? 0;
    }
  }
  return { records, bytes, served };
}
