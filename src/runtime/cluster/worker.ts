/**
 * A cluster worker (DESIGN.md §9): a process that runs task attempts for a
 * coordinator in slots (threads) and serves the map outputs it holds.
 *
 * {@link startWorker} starts its shuffle server (with `/metrics` on the same
 * port), registers with the coordinator and returns; from then on it lives
 * incarnation after incarnation (`worker-session.ts`): a fenced worker (the
 * coordinator declared it dead, after a SIGSTOP or a cut link) kills its
 * running attempts, deletes the map outputs of the ended incarnation (the
 * coordinator has given them up) and registers again. It stops when the
 * coordinator drains it, when {@link ClusterWorker.close} is called, or on an
 * error no retry can fix (a refused token, a coordinator gone for longer than
 * `registerTimeoutMs`).
 *
 * Files: `<workDir>/bundles/` caches job bundles (kept across runs);
 * `<workDir>/jobs/<jobId>/attempts/<attemptId>/` is an attempt's scratch and,
 * for a map attempt, its output. `jobs/` is emptied at start and at close:
 * map outputs do not outlive the process that serves them. One work
 * directory per worker.
 */
import { mkdir, rm } from 'node:fs/promises';
import { availableParallelism, hostname } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@connectrpc/connect';
import { Code, ConnectError } from '@connectrpc/connect';
import type { Logger } from 'pino';
import { ErrorCode, TsmrError, usageError } from '../../errors.ts';
import { ownModuleUrl } from '../../own-module-url.ts';
import { onThreadPool } from '../local/local-executor.ts';
import { WorkerService } from './gen/tsmr/cluster/v1/worker_service_pb.js';
import { createRpcTransport } from './rpc-client.ts';
import type { RpcTransport } from './rpc-client.ts';
import { isLoopbackHost } from './rpc-server.ts';
import { jobKeyOf } from './shuffle-auth.ts';
import { createShuffleServer } from './shuffle-server.ts';
import type { ShuffleServer } from './shuffle-server.ts';
import { tsmrVersion } from './tsmr-version.ts';
import { MAX_SLOTS, registeredFromWire } from './wire-worker.ts';
import type { Registered } from './wire-worker.ts';
import { addressTowards, defaultWorkerId, isWildcardHost } from './worker-address.ts';
import { WorkerAttempts, jobDir } from './worker-attempts.ts';
import type { FetchTuning } from './worker-attempts.ts';
import { WorkerBundles } from './worker-bundles.ts';
import { MapOutputRegistry } from './worker-map-outputs.ts';
import { createWorkerMetrics } from './worker-metrics.ts';
import { isTransient, rpcError, withRetries } from './worker-rpc.ts';
import { Incarnation } from './worker-session.ts';
import type { IncarnationEnd } from './worker-session.ts';

export interface WorkerOptions {
  /** Coordinator base URL, `http://host:port` or `https://…`. */
  coordinator: string;
  /** Cluster token (`readClusterToken`); undefined only with loopback addresses. */
  token: string | undefined;
  /** Task slots = threads running attempts, 1–1024 (default: available parallelism). */
  slots?: number;
  /**
   * Address the shuffle server binds and advertises (default: the local
   * address of the interface that reaches the coordinator). A wildcard
   * (`0.0.0.0`, `::`) binds every interface and advertises that address.
   * Without a token only loopback is allowed.
   */
  host?: string;
  /** Shuffle port, 0 = a free one (default 0). */
  port?: number;
  /** Holds map outputs, attempt scratch and the bundle cache (created if missing). */
  workDir: string;
  /** Default: `<os.hostname()>-<shuffle port>`, made to fit the worker-id pattern. */
  workerId?: string;
  /** PEM CA to trust for an https coordinator and https shuffle servers; cert/key to serve the shuffle over TLS. */
  tls?: { ca?: string; cert?: string; key?: string };
  log: Logger;
  /** The tsmr version this worker claims (default `tsmrVersion()`): for the version-refusal test. */
  version?: string;
  /**
   * How long registration is retried while the coordinator cannot be
   * reached (it may be starting), ms (default 60 000); also after a lost
   * session. Then the worker fails with `TSMR_IO` naming the URL.
   */
  registerTimeoutMs?: number;
  /** Longest wait of one `AcquireTasks` long poll, ms (default 30 000, at most 60 000). */
  pollWaitMs?: number;
  /** Shuffle fetcher settings (default `fetchDefaults` of `shuffle-fetcher.ts`); tests shorten the backoff. */
  fetch?: FetchTuning;
  /** Closes the worker when it aborts, as `close()` does; during `startWorker`, which then rejects with `TSMR_CANCELLED`. */
  signal?: AbortSignal;
}

export interface ClusterWorker {
  readonly id: string;
  readonly shuffleUrl: string;
  /** Current incarnation (changes when the coordinator fences it and it re-registers). */
  incarnation(): number;
  /**
   * Settles when the worker has stopped: resolves when it was drained by the
   * coordinator or closed, rejects with the error that stopped it otherwise.
   */
  readonly closed: Promise<void>;
  /** Stops polling, kills running attempts, closes the session and the shuffle server. Idempotent. */
  close(reason?: string): Promise<void>;
}

const threadEntry = ownModuleUrl('./worker-thread.ts', import.meta.url).href;

/**
 * Starts a worker: shuffle server, registration, session, heartbeats, leases.
 * Resolves once registered.
 * @throws TsmrError `TSMR_USAGE` for bad options (a non-loopback host
 *   without a token…); `TSMR_REFUSED` with the coordinator's message when it
 *   refused the registration (another tsmr major.minor version, or it is
 *   shutting down); `TSMR_AUTH` when it refused the token; `TSMR_IO` when it
 *   could not be reached within `registerTimeoutMs`, or the shuffle port
 *   cannot be bound.
 */
export async function startWorker(options: WorkerOptions): Promise<ClusterWorker> {
  const slots = options.slots ?? Math.min(availableParallelism(), MAX_SLOTS);
  if (!Number.isInteger(slots) || slots < 1 || slots > MAX_SLOTS) {
    throw usageError(`slots must be a whole number from 1 to ${MAX_SLOTS}, got ${slots}`);
  }
  const { cert, key, ca } = options.tls ?? {};
  if ((cert === undefined) !== (key === undefined)) {
    throw usageError('serving the shuffle over TLS needs both a certificate and its key');
  }
  const transport = createRpcTransport({ baseUrl: options.coordinator, token: options.token, ca });
  const host = options.host ?? (await addressTowards(options.coordinator));
  if (options.token === undefined && !isLoopbackHost(host)) {
    throw usageError(
      `refusing to serve the shuffle on ${host} without a cluster token: give --token-file or TSMR_TOKEN, ` +
        'or --host 127.0.0.1 (with a coordinator on this machine)',
      { host },
    );
  }
  await mkdir(options.workDir, { recursive: true });
  await rm(join(options.workDir, 'jobs'), { recursive: true, force: true });
  const worker = new Worker(options, slots, transport, host);
  const onAbort = () => void worker.close(`aborted: ${String(options.signal?.reason)}`);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    options.signal?.throwIfAborted();
    await worker.start();
  } catch (error) {
    options.signal?.removeEventListener('abort', onAbort);
    await worker.shutDown();
    throw error;
  }
  const forget = () => options.signal?.removeEventListener('abort', onAbort);
  worker.closed!.then(forget, forget);
  return worker.handle();
}

class Worker {
  private readonly outputs = new MapOutputRegistry();
  private readonly life = new AbortController();
  private readonly client;
  private readonly keys = new Map<string, Uint8Array>();
  private readonly shuffle: ShuffleServer;
  private readonly metrics;
  private readonly runner;
  private log: Logger;
  private id = '';
  private shuffleUrl = '';
  private attempts!: WorkerAttempts;
  private current: Incarnation | undefined;
  closed: Promise<void> | undefined;
  private closing: string | undefined;

  private readonly options: WorkerOptions;
  private readonly slots: number;
  private readonly transport: RpcTransport;
  private readonly host: string;

  constructor(options: WorkerOptions, slots: number, transport: RpcTransport, host: string) {
    this.options = options;
    this.slots = slots;
    this.transport = transport;
    this.host = host;
    this.log = options.log;
    this.client = createClient(WorkerService, transport);
    this.runner = onThreadPool(slots, {
      filename: threadEntry,
      workerData: { bundleDir: join(options.workDir, 'bundles') },
    });
    this.metrics = createWorkerMetrics({
      slots,
      busy: () => this.attempts?.busy ?? 0,
      mapOutputs: () => this.outputs.size,
      bytesServed: () => this.shuffle.stats().bytesServed,
      incarnation: () => this.current?.number ?? 0,
    });
    this.shuffle = createShuffleServer({
      host,
      port: options.port ?? 0,
      jobKey: (jobId) => (this.outputs.hasJob(jobId) ? this.jobKey(jobId) : undefined),
      lookup: (jobId, mapAttemptId) => this.outputs.get(jobId, mapAttemptId),
      logger: this.log,
      tls: options.tls?.cert !== undefined ? { cert: options.tls.cert, key: options.tls.key! } : undefined,
      httpRoutes: this.metrics.route,
    });
  }

  async start(): Promise<void> {
    const bound = await this.shuffle.listen();
    this.shuffleUrl = isWildcardHost(this.host)
      ? `${new URL(bound.url).protocol}//${urlHost(await addressTowards(this.options.coordinator))}:${bound.port}`
      : bound.url;
    this.id = this.options.workerId ?? defaultWorkerId(bound.port);
    this.log = this.options.log.child({ worker: this.id });
    this.attempts = new WorkerAttempts(
      {
        workerId: this.id,
        workDir: this.options.workDir,
        runner: this.runner,
        bundles: new WorkerBundles(this.options.workDir, this.client, this.life.signal, this.log),
        outputs: this.outputs,
        jobKey: (jobId) => this.jobKey(jobId),
        ca: this.options.tls?.ca,
        coordinator: this.options.coordinator,
        token: this.options.token,
        fetch: this.options.fetch,
        metrics: this.metrics,
        log: this.log,
      },
      this.slots,
    );
    const first = this.incarnation(await this.register());
    this.closed = this.live(first)
      .catch((error: unknown) => {
        if (this.closing === undefined) throw error;
      })
      .finally(() => this.shutDown());
    this.closed.catch(() => {});
  }

  handle(): ClusterWorker {
    const closed = this.closed!;
    return {
      id: this.id,
      shuffleUrl: this.shuffleUrl,
      incarnation: () => this.current?.number ?? 0,
      closed,
      close: (reason = 'closed') => this.close(reason),
    };
  }

  async close(reason: string): Promise<void> {
    this.closing ??= reason;
    this.life.abort(new TsmrError(ErrorCode.CANCELLED, `the worker was closed: ${reason}`));
    this.current?.end({ kind: 'closed', reason });
    await this.closed?.catch(() => {});
  }

  /** Incarnation after incarnation until one ends for good. */
  private async live(first: Incarnation): Promise<void> {
    let current = first;
    for (;;) {
      const end: IncarnationEnd = await current.ended;
      const reason = end.kind === 'failed' ? end.error.message : end.reason;
      this.log[end.kind === 'closed' || end.kind === 'drained' ? 'info' : 'warn'](
        { end: end.kind, reason },
        'incarnation ended',
      );
      await current.stop(`incarnation ${current.number} ended: ${reason}`);
      if (end.kind === 'failed') throw end.error;
      if (end.kind !== 'reregister') return;
      await this.dropOutputs();
      current = this.incarnation(await this.register());
    }
  }

  private incarnation(registered: Registered): Incarnation {
    const incarnation = new Incarnation(
      {
        client: this.client,
        coordinator: this.options.coordinator,
        workerId: this.id,
        attempts: this.attempts,
        outputs: this.outputs,
        bytesServed: () => this.shuffle.stats().bytesServed,
        discardJob: (jobId) => this.discardJob(jobId),
        pollWaitMs: this.options.pollWaitMs ?? 30_000,
        log: this.log,
      },
      registered,
    );
    this.current = incarnation;
    if (this.closing !== undefined) incarnation.end({ kind: 'closed', reason: this.closing });
    this.log.info({ incarnation: registered.incarnation, shuffleUrl: this.shuffleUrl }, 'registered');
    return incarnation;
  }

  /** `Register`, retried while the coordinator cannot be reached (see `registerTimeoutMs`). */
  private async register(): Promise<Registered> {
    const { coordinator } = this.options;
    const timeoutMs = this.options.registerTimeoutMs ?? 60_000;
    const request = {
      workerId: this.id,
      tsmrVersion: this.options.version ?? tsmrVersion(),
      shuffleUrl: this.shuffleUrl,
      slots: this.slots,
      hostName: hostname().slice(0, 255),
      pid: process.pid,
      mapOutputs: this.outputs.held(),
    };
    let answer;
    try {
      answer = await withRetries((signal) => this.client.register(request, { signal }), {
        signal: this.life.signal,
        log: this.log,
        what: `Register with ${coordinator}`,
        giveUpAfterMs: timeoutMs,
      });
    } catch (error) {
      this.life.signal.throwIfAborted();
      const e = ConnectError.from(error);
      if (e.code === Code.FailedPrecondition) {
        throw new TsmrError(ErrorCode.REFUSED, e.rawMessage, { details: { coordinator, workerId: this.id } });
      }
      if (isTransient(e)) {
        throw new TsmrError(
          ErrorCode.IO,
          `cannot reach the coordinator at ${coordinator} (tried for ${Math.round(timeoutMs / 1000)} s: ` +
            `${e.rawMessage}): is it running, and is --coordinator right?`,
          { cause: e, details: { coordinator } },
        );
      }
      throw rpcError(e, coordinator, 'Register');
    }
    return registeredFromWire(answer);
  }

  private jobKey(jobId: string): Uint8Array {
    let key = this.keys.get(jobId);
    if (key === undefined) {
      key = jobKeyOf(this.options.token, jobId);
      this.keys.set(jobId, key);
    }
    return key;
  }

  /** A job ended: its attempts stop, its map outputs and scratch go. Idempotent. */
  private async discardJob(jobId: string): Promise<void> {
    this.attempts.killJob(jobId, 'the job ended');
    this.outputs.dropJob(jobId);
    this.keys.delete(jobId);
    await rm(jobDir(this.options.workDir, jobId), { recursive: true, force: true, maxRetries: 3 }).catch(
      (err: unknown) => this.log.warn({ err, jobId }, 'cannot delete the files of an ended job'),
    );
  }

  /** The incarnation that made the map outputs ended: the coordinator has given them up. */
  private async dropOutputs(): Promise<void> {
    this.outputs.dropAll();
    this.keys.clear();
    await rm(join(this.options.workDir, 'jobs'), { recursive: true, force: true, maxRetries: 3 }).catch(
      (err: unknown) => this.log.warn({ err }, 'cannot delete the map outputs of the ended incarnation'),
    );
  }

  /** Releases everything: no thread, socket or timer is left. Each step on its own. */
  async shutDown(): Promise<void> {
    this.life.abort();
    const steps: Array<[string, () => unknown]> = [
      ['stop attempts', () => this.attempts?.killAll('the worker is stopping')],
      ['close the shuffle server', () => this.shuffle.close()],
      ['stop the threads', () => this.runner.close()],
      ['close the connection', () => this.transport.close()],
      ['delete job files', () => rm(join(this.options.workDir, 'jobs'), { recursive: true, force: true })],
    ];
    for (const [step, fn] of steps) {
      try {
        await fn();
      } catch (err) {
        this.log.warn({ err, step }, 'worker shutdown step failed');
      }
    }
    this.log.info('worker stopped');
  }
}

function urlHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}
