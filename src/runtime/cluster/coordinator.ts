/**
 * `startCoordinator`: the coordinator process of a tsmr cluster (DESIGN.md
 * §9): one port serving `WorkerService` and `ClientService` (Connect over
 * HTTP/2, bearer token), `/metrics`, uploaded input (`/input/…`,
 * `coordinator-input.ts`) and the dashboard (`/`, behind a login with the
 * token), a {@link WorkerRegistry} of the
 * workers, and the FIFO queue of jobs ({@link ClusterJobs}), each run by the
 * same job driver and scheduler as local mode.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createCoordinatorDashboard } from '../../observe/dashboard/coordinator-dashboard.ts';
import { DashboardStore } from '../../observe/dashboard/store.ts';
import { watchJob } from '../../observe/dashboard/watch-job.ts';
import type { Logger } from '../../observe/logger.ts';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from '../../observe/metrics.ts';
import { BundleCache } from './bundle-cache.ts';
import { ClusterJobs } from './cluster-jobs.ts';
import { serveUploadedInput, UploadedInputs } from './coordinator-input.ts';
import { coordinatorRoutes } from './coordinator-services.ts';
import { createRpcServer } from './rpc-server.ts';
import { coordinatorMetrics } from './coordinator-metrics.ts';
import { WorkerRegistry } from './worker-registry.ts';

export interface CoordinatorOptions {
  /** Address to listen on (default `127.0.0.1`; anything else needs a token). */
  host?: string;
  /** Port (default 7070; 0: a free one). */
  port?: number;
  /** The cluster token; undefined: no authentication, loopback only. */
  token: string | undefined;
  /** PEM certificate and key: serve TLS. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Heartbeat interval workers are told, ms (default 2000, `--heartbeat-interval`). */
  heartbeatIntervalMs?: number;
  /** Intervals without a heartbeat before a worker is lost (default 5, `--missed-heartbeats`). */
  missedHeartbeats?: number;
  /** Holds uploaded bundles and input, and the scratch of running jobs. */
  workDir: string;
  /** How long the results of a job without an output directory wait for their client, ms (default 10 min). */
  resultsTtlMs?: number;
  log: Logger;
  /** The version workers must match (tests of the refusal only; default this tsmr's). */
  version?: string;
}

export interface Coordinator {
  /** The URL clients and workers use, e.g. `http://127.0.0.1:7070`. */
  readonly url: string;
  readonly registry: WorkerRegistry;
  readonly jobs: ClusterJobs;
  /** Settles when the coordinator has shut down (`close()` or a `Shutdown` RPC). */
  readonly closed: Promise<void>;
  /** Cancels jobs, drains workers, stops the server. Idempotent. */
  close(reason?: string): Promise<void>;
}

export const coordinatorDefaults = {
  host: '127.0.0.1',
  port: 7070,
  heartbeatIntervalMs: 2000,
  missedHeartbeats: 5,
};

/**
 * Starts a coordinator and resolves once it listens.
 * @throws TsmrError `TSMR_USAGE` for a non-loopback host without a token; `TSMR_IO` when the port cannot be bound.
 */
export async function startCoordinator(opts: CoordinatorOptions): Promise<Coordinator> {
  const workDir = resolve(opts.workDir);
  await mkdir(workDir, { recursive: true });
  const log = opts.log.child({ role: 'coordinator' });
  const registry = new WorkerRegistry({
    heartbeatIntervalMs: opts.heartbeatIntervalMs ?? coordinatorDefaults.heartbeatIntervalMs,
    missedHeartbeats: opts.missedHeartbeats ?? coordinatorDefaults.missedHeartbeats,
    log,
  });
  const bundles = new BundleCache(workDir);
  const uploads = new UploadedInputs(workDir);
  await uploads.clear();
  const store = new DashboardStore('cluster');
  const jobs = new ClusterJobs({
    registry,
    bundles,
    workDir,
    uploads,
    resultsTtlMs: opts.resultsTtlMs,
    log,
    onRun: (h) => watchJob(store, h),
  });
  const dashboard = createCoordinatorDashboard({
    store,
    registry,
    jobs,
    token: opts.token,
    secure: opts.tls !== undefined,
    log,
  });
  let closing: Promise<void> | undefined;
  let markClosed!: () => void;
  const closed = new Promise<void>((r) => (markClosed = r));

  const server = createRpcServer({
    host: opts.host ?? coordinatorDefaults.host,
    port: opts.port ?? coordinatorDefaults.port,
    token: opts.token,
    tls: opts.tls,
    log,
    routes: coordinatorRoutes({
      registry,
      jobs,
      bundles,
      uploads,
      log,
      version: opts.version,
      closing: () => closing !== undefined,
      onShutdown: (reason) => void close(reason),
    }),
    httpRoutes(req, res, { authorized }) {
      const inputOf = (jobId: string) => jobs.running(jobId)?.inputFiles();
      if (serveUploadedInput(req, res, inputOf, authorized || opts.token === undefined, log)) return true;
      if (req.url !== '/metrics' || req.method !== 'GET') dashboard.handle(req, res);
      else {
        res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE });
        res.end(renderPrometheus(coordinatorMetrics(registry, jobs)));
      }
      return true;
    },
  });

  function close(reason = 'the coordinator is shutting down'): Promise<void> {
    closing ??= (async () => {
      log.info({ reason }, 'shutting down');
      await jobs.close(reason);
      registry.close(reason);
      dashboard.close();
      await server.close();
      markClosed();
    })();
    return closing;
  }

  const bound = await server.listen();
  log.info({ url: bound.url }, 'coordinator listening');
  return { url: bound.url, registry, jobs, closed, close };
}
