/**
 * What watches a `tsmr run` or `tsmr submit --wait` besides the progress
 * bars: `--dashboard` (the web page, live while the job runs) and
 * `--monitor-workers` (the worker table under the bars). Both read one
 * {@link DashboardStore}, fed by the job's events (local: its handle;
 * submit: the coordinator's watch stream into the same handle) and by the
 * workers: this process as worker `local`, or the cluster's, from
 * `GetStatus` once a second.
 */
import type { Command } from 'commander';
import { usageError } from '../errors.ts';
import { sampleClusterWorkers } from '../observe/dashboard/cluster-feed.ts';
import { sampleLocalWorker } from '../observe/dashboard/local-worker.ts';
import { type LocalDashboard, startLocalDashboard } from '../observe/dashboard/local-server.ts';
import { DashboardStore } from '../observe/dashboard/store.ts';
import { workerRows } from '../observe/dashboard/views.ts';
import { watchJob } from '../observe/dashboard/watch-job.ts';
import { formatWorkerTable } from '../observe/worker-table.ts';
import type { ClusterStatus } from '../runtime/cluster/wire-status.ts';
import type { JobHandle } from '../runtime/run-job.ts';
import { parseCount } from './options.ts';

export interface ObserverFlags {
  dashboard?: boolean;
  dashboardPort?: number;
  monitorWorkers?: boolean;
}

/** Where the worker rows come from: this process, or a cluster (`GetStatus`). */
export type WorkerSource = { kind: 'local' } | { kind: 'cluster'; status: () => Promise<ClusterStatus> };

/** Adds `--dashboard`, `--dashboard-port` and `--monitor-workers` to `command`. */
export function addObserverFlags(command: Command): Command {
  return command
    .option('--dashboard', 'serve a live web dashboard on 127.0.0.1 while the job runs (prints its URL)')
    .option('--dashboard-port <port>', 'port of --dashboard (default: any free port)', parseCount)
    .option('--monitor-workers', 'show a live table of the workers under the progress bars');
}

export interface RunObservers {
  /** The worker table, for the progress display (`--monitor-workers`). */
  extraLines?: () => readonly string[];
  /** Follows the job. */
  watch(handle: JobHandle): void;
  /** Takes a last sample, then closes the dashboard (its pages keep the last state). */
  close(): Promise<void>;
}

/**
 * Starts the observers the flags ask for; with `--dashboard`, prints its URL
 * on stderr (the URL holds the run's secret: it is printed, never logged).
 * @throws TsmrError `TSMR_USAGE` when `--dashboard-port` is in use; another listen error as it is.
 */
export async function startRunObservers(
  flags: ObserverFlags,
  workers: WorkerSource = { kind: 'local' },
): Promise<RunObservers> {
  if (!flags.dashboard && !flags.monitorWorkers) {
    return { watch() {}, close: async () => {} };
  }
  const store = new DashboardStore('local');
  const dashboard = flags.dashboard ? await startDashboard(store, flags.dashboardPort) : undefined;
  if (dashboard) process.stderr.write(`tsmr: dashboard at ${dashboard.url} (live while the job runs)\n`);
  const sampler =
    workers.kind === 'local'
      ? sampleLocalWorker(store)
      : { sample() {}, stop: sampleClusterWorkers(store, workers.status) };
  return {
    extraLines: flags.monitorWorkers ? () => formatWorkerTable(workerRows(store.state)) : undefined,
    watch: (handle) => watchJob(store, handle),
    async close() {
      sampler.sample();
      sampler.stop();
      await dashboard?.close();
    },
  };
}

async function startDashboard(store: DashboardStore, port: number | undefined): Promise<LocalDashboard> {
  try {
    return await startLocalDashboard(store, { port });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    throw usageError(`--dashboard-port ${port}: the port is in use on 127.0.0.1`, { port });
  }
}
