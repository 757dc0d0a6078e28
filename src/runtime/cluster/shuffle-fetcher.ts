/**
 * The copy phase of a reduce attempt in cluster mode: fetches segment r of
 * every map output from the workers that hold it into local files, which the
 * (unchanged, synchronous) `mergeSegments` then reads. Hadoop's reduce-side
 * `Shuffle` with its `Fetcher` threads plays this part.
 *
 * - **Parallel copies**: at most `parallel` segments are fetched at once
 *   (default 5, Hadoop's `mapreduce.reduce.shuffle.parallelcopies`), over
 *   keep-alive connections of this call's own agents, which also hold at
 *   most `parallel` sockets per worker and are closed at the end. Node's
 *   `node:http(s)` rather than the global `fetch`: its agents take a CA for
 *   TLS and an idle timeout without the undici package, and its responses
 *   are plain streams to write to a file.
 * - **Memory**: every segment goes to disk, streamed chunk by chunk with its
 *   CRC-32 computed on the way (`segment-copy.ts`); none is held in memory.
 *   Hadoop keeps small segments in memory, but our merger reads files, and a
 *   freshly written file is read back from the page cache.
 * - **Retries**: a source whose try fails (connection refused or cut,
 *   timeout, non-200 status, short body, CRC or header mismatch) is tried
 *   again after an exponential backoff with full jitter, up to `retries`
 *   times; then it is given up on and `onFetchFailure` is called at once (as
 *   a Hadoop fetcher reports each failed copy). An auth failure (401, or a
 *   server without the job's key) is not retried. Other sources go on being
 *   fetched, so that one call reports every map output it could not get.
 * - **Empty segments** (length 0) are not fetched.
 *
 * Local failures (the directory cannot be written) and aborts stop every
 * copy at once. Whenever the call rejects, every file it wrote is removed.
 */
import { rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { backoffDelay, normalizeBackoff } from '../../batch/backoff.ts';
import type { BackoffOptions } from '../../batch/types.ts';
import { ErrorCode, TsmrError, usageError } from '../../errors.ts';
import type { SegmentRef } from '../../shuffle/segment-reader.ts';
import { copySegment } from './segment-copy.ts';
import type { CopyContext, ShuffleSource } from './segment-copy.ts';
import { shufflePath } from './shuffle-protocol.ts';

export type { ShuffleSource } from './segment-copy.ts';

export interface FetchSegmentsOptions {
  /** The job's shuffle key (`deriveJobKey`). */
  jobKey: Uint8Array;
  /** Directory for the fetched segment files (`<mapAttemptId>-<partition>.segment`, which must not exist yet). */
  dir: string;
  /** Segments fetched at once (default 5, Hadoop's `parallelcopies`). */
  parallel?: number;
  /** Retries of a source after its first try (default 3). */
  retries?: number;
  /** Delay before retries (default: 1 s, ×2, at most 10 s, full jitter; Hadoop waits 1 s between fetch retries). */
  backoff?: BackoffOptions;
  /** A try fails when no byte arrives for this long (ms; default 180 000, Hadoop's shuffle read timeout). */
  timeoutMs?: number;
  /** Stops every copy; the call then rejects with `TSMR_CANCELLED`. */
  signal?: AbortSignal;
  /** CA certificates (PEM) that `https:` sources must chain to (default: Node's). */
  ca?: string | Buffer | Array<string | Buffer>;
  /**
   * Bytes received so far by the tries in progress and the finished copies
   * (it goes back when a try fails): divided by the sources' total length, the
   * fraction of the copy phase done. Called once per chunk.
   */
  onProgress?(bytes: number): void;
  /** A source was given up on; `error` as in the rejection's `details.failedMapOutputs`. */
  onFetchFailure?(source: ShuffleSource, error: TsmrError): void;
  /** Waits before a retry (default: a timer that the signal cancels). For tests. */
  sleep?(ms: number, signal: AbortSignal): Promise<void>;
  /** Random numbers in [0, 1) for the jitter (default `Math.random`). */
  random?(): number;
  /** Clock for request signatures, epoch ms (default `Date.now`). */
  now?(): number;
}

/** Defaults of {@link FetchSegmentsOptions}. */
export const fetchDefaults = {
  parallel: 5,
  retries: 3,
  backoff: { initialDelay: 1000, factor: 2, maxDelay: 10_000, jitter: 1 },
  timeoutMs: 180_000,
} as const;

/**
 * Fetches every source into `options.dir` and returns one {@link SegmentRef}
 * per source, in the same order (`source` is its map attempt id, as the
 * reduce task's fetch stage names segments, `fetch-stage.ts`). An empty
 * segment's ref has `path: ''` (`mergeSegments` never opens it).
 *
 * @throws TsmrError `TSMR_USAGE` for a bad option or source (before any
 *   fetch); `TSMR_CANCELLED` when the signal aborted; `TSMR_IO` for a local
 *   file error; and when sources were given up on: `TSMR_AUTH` if any was
 *   refused for its credentials, else `TSMR_CORRUPT_DATA` if any had a bad
 *   CRC, length or index facts, else `TSMR_IO`, with `details.failedMapOutputs` =
 *   `[{ mapTaskId, mapAttemptId, partition, url, code, reason }]` in source
 *   order (one `fetchFailed` event per map attempt, except for `TSMR_AUTH`)
 *   and the first failure as `cause`.
 */
export async function fetchSegments(
  sources: readonly ShuffleSource[],
  options: FetchSegmentsOptions,
): Promise<SegmentRef[]> {
  const parallel = options.parallel ?? fetchDefaults.parallel;
  const retries = options.retries ?? fetchDefaults.retries;
  const backoff = normalizeBackoff({ ...fetchDefaults.backoff, ...options.backoff });
  if (!Number.isInteger(parallel) || parallel < 1)
    throw usageError(`parallel must be an integer ≥ 1, got ${parallel}`);
  if (!Number.isInteger(retries) || retries < 0)
    throw usageError(`retries must be an integer ≥ 0, got ${retries}`);
  sources.forEach(checkSource);
  const files = sources.map((s) => join(options.dir, `${s.mapAttemptId}-${s.partition}.segment`));
  if (new Set(files).size !== files.length) throw usageError('the same segment is listed twice');

  options.signal?.throwIfAborted();
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const sleep = options.sleep ?? ((ms: number, s: AbortSignal) => delay(ms, undefined, { signal: s }));
  const agents = {
    http: new http.Agent({ keepAlive: true, maxSockets: parallel }),
    https: new https.Agent({ keepAlive: true, maxSockets: parallel, ca: options.ca }),
  };
  const shared = {
    jobKey: options.jobKey,
    agents,
    timeoutMs: options.timeoutMs ?? fetchDefaults.timeoutMs,
    signal,
    now: options.now ?? Date.now,
  };
  let received = 0;
  const progress = (n: number) => options.onProgress?.((received += n));

  const failures = new Map<number, TsmrError>();
  const written: string[] = [];
  let fatal: unknown;
  const copyWithRetries = async (i: number): Promise<void> => {
    const source = sources[i];
    for (let retry = 0; ; retry++) {
      let bytes = 0;
      const onBytes = (n: number) => {
        bytes += n;
        progress(n);
      };
      const ctx: CopyContext = { ...shared, onBytes };
      const failed = await copySegment(source, files[i], ctx);
      if (!failed) return void written.push(files[i]);
      if (bytes > 0) progress(-bytes);
      if (!failed.retriable || retry === retries) {
        failures.set(i, failed.error);
        return options.onFetchFailure?.(source, failed.error);
      }
      await sleep(backoffDelay(retry + 1, backoff, options.random), signal);
    }
  };
  const queue = sources.flatMap((s, i) => (s.length > 0 ? [i] : []));
  let next = 0;
  const runner = async (): Promise<void> => {
    while (next < queue.length && !signal.aborted) await copyWithRetries(queue[next++]);
  };
  await Promise.all(
    Array.from({ length: Math.min(parallel, queue.length) }, () =>
      runner().catch((error: unknown) => {
        fatal ??= error;
        stop.abort();
      }),
    ),
  );
  for (const agent of Object.values(agents)) agent.destroy();

  if (options.signal?.aborted || fatal !== undefined || failures.size > 0) {
    await Promise.all(written.map((f) => rm(f, { force: true })));
    if (options.signal?.aborted) {
      throw new TsmrError(ErrorCode.CANCELLED, 'shuffle fetch cancelled', { cause: options.signal.reason });
    }
    if (fatal !== undefined) throw fatal;
    throw fetchFailure(sources, failures);
  }
  return sources.map((s, i) => ({
    path: s.length > 0 ? files[i] : '',
    offset: 0,
    length: s.length,
    records: s.records,
    crc32: s.crc32,
    source: s.mapAttemptId,
  }));
}

function fetchFailure(sources: readonly ShuffleSource[], failures: Map<number, TsmrError>): TsmrError {
  const errors = [...failures.keys()].sort((a, b) => a - b).map((i) => failures.get(i) as TsmrError);
  const code =
    [ErrorCode.AUTH, ErrorCode.CORRUPT_DATA].find((c) => errors.some((e) => e.code === c)) ?? ErrorCode.IO;
  const first = errors[0];
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  return new TsmrError(
    code,
    `shuffle could not fetch ${errors.length} of ${sources.length} map output segments: ${first.message}${more}`,
    {
      cause: first,
      details: {
        jobId: sources[0].jobId,
        failedMapOutputs: errors.map((e) => {
          const { mapTaskId, mapAttemptId, partition, url, reason } = e.details;
          return { mapTaskId, mapAttemptId, partition, url, code: e.code, reason };
        }),
      },
    },
  );
}

/** @throws TsmrError `TSMR_USAGE` for a source that could not name a real segment. */
function checkSource(s: ShuffleSource, i: number): void {
  const bad = (why: string) => usageError(`shuffle source ${i} (${JSON.stringify(s)}) ${why}`);
  try {
    shufflePath(s);
  } catch {
    throw bad('has a bad job id, map attempt id or partition');
  }
  if (!s.mapAttemptId.startsWith(`${s.mapTaskId}_`)) throw bad('names a map attempt of another task');
  let protocol: string;
  try {
    protocol = new URL(s.url).protocol;
  } catch {
    throw bad('has a bad url');
  }
  if (protocol !== 'http:' && protocol !== 'https:') throw bad('has a url that is not http(s)');
  for (const n of [s.length, s.records, s.crc32]) {
    if (!Number.isSafeInteger(n) || n < 0) throw bad('has a bad length, records or crc32');
  }
  if (s.crc32 > 0xffffffff || (s.length === 0 && (s.records !== 0 || s.crc32 !== 0))) {
    throw bad('has impossible segment facts');
  }
}
