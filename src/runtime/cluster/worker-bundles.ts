/**
 * A cluster worker's job bundles: a lease names its job's code by the
 * SHA-256 of a bundle; the worker downloads it once (`GetBundle`), checks its
 * hash and caches it (`bundle-cache.ts`), and gives its attempts the task
 * message with the cached file's URL in the job reference (DESIGN.md §9).
 */
import { pathToFileURL } from 'node:url';
import type { Client } from '@connectrpc/connect';
import type { Logger } from '../../observe/logger.ts';
import type { JobRef } from '../../task/messages.ts';
import { BundleCache } from './bundle-cache.ts';
import type { WorkerService } from './gen/tsmr/cluster/v1/worker_service_pb.js';
import type { WireJobRef } from './wire-common.ts';
import { bundleFromWire } from './wire-worker.ts';
import { withRetries } from './worker-rpc.ts';

export class WorkerBundles {
  readonly cache: BundleCache;
  /** Downloads in progress, by SHA-256: attempts of one job share one. */
  private readonly loading = new Map<string, Promise<string>>();

  /**
   * @param signal the worker's life: stops downloads when it closes (an
   *   attempt's kill does not stop a download other attempts may wait for).
   */
  private readonly client: Client<typeof WorkerService>;
  private readonly signal: AbortSignal;
  private readonly log: Logger;

  constructor(workDir: string, client: Client<typeof WorkerService>, signal: AbortSignal, log: Logger) {
    this.cache = new BundleCache(workDir);
    this.client = client;
    this.signal = signal;
    this.log = log;
  }

  /**
   * The job reference a task runner loads: a bundle's cached module URL in
   * place of its hash; streaming jobs as they are.
   * @throws the download's error: `NOT_FOUND` from the coordinator,
   *   `TSMR_BAD_MESSAGE` or `TSMR_CORRUPT_DATA` for bytes that are not the
   *   bundle asked for, `TSMR_IO` when it cannot be cached.
   */
  async jobRef(ref: WireJobRef): Promise<JobRef> {
    if (ref.kind === 'streaming') return ref;
    const { bundleSha256, ...rest } = ref;
    const moduleUrl = pathToFileURL(await this.path(bundleSha256)).href;
    return { ...rest, moduleUrl };
  }

  private path(sha256: string): Promise<string> {
    if (this.cache.has(sha256)) return Promise.resolve(this.cache.path(sha256));
    let loading = this.loading.get(sha256);
    if (loading === undefined) {
      loading = this.download(sha256).finally(() => this.loading.delete(sha256));
      this.loading.set(sha256, loading);
    }
    return loading;
  }

  private async download(sha256: string): Promise<string> {
    const answer = await withRetries((signal) => this.client.getBundle({ sha256 }, { signal }), {
      signal: this.signal,
      log: this.log,
      what: `GetBundle ${sha256}`,
    });
    const path = await this.cache.put(sha256, bundleFromWire(answer, sha256));
    this.log.info({ sha256, bytes: answer.bundle.length }, 'job bundle cached');
    return path;
  }
}
