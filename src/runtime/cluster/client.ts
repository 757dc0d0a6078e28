/**
 * A client of a coordinator's `ClientService` (`client_service.proto`), as
 * `tsmr submit`, `tsmr status`, `tsmr cancel`, `tsmr cluster stop` and
 * `runJob({ coordinator })` use it: typed calls on tsmr's own types, every
 * answer checked (`wire-*.ts`), and every failure a {@link TsmrError} that
 * names the coordinator's URL:
 *
 * | RPC failure                                      | error               | CLI exit |
 * | ------------------------------------------------ | ------------------- | -------- |
 * | `UNAUTHENTICATED` (missing or wrong token)       | `TSMR_AUTH`         | 2        |
 * | `INVALID_ARGUMENT`, `NOT_FOUND` (bad job, id)    | `TSMR_USAGE`        | 2        |
 * | refused, unreachable, no answer in time, gone    | `TSMR_UNAVAILABLE`  | 1        |
 * | anything else                                    | `TSMR_INTERNAL`     | 1        |
 *
 * A refused token is a setting to fix before anything can run (exit 2, as a
 * bad flag); an unreachable coordinator is the environment failing, which a
 * retry may fix (exit 1, as a failed job).
 */
import { Code, ConnectError } from '@connectrpc/connect';
import type { Client, Transport } from '@connectrpc/connect';
import { ErrorCode, TsmrError, usageError } from '../../errors.ts';
import { ClientService } from './gen/tsmr/cluster/v1/client_service_pb.js';
import { clusterDir, readClusterState } from './cluster-state.ts';
import { createRpcClient, createRpcTransport } from './rpc-client.ts';
import type { RpcTransport } from './rpc-client.ts';
import { readClusterToken } from './token.ts';
import { submissionToWire } from './wire-job.ts';
import type { JobSubmission } from './wire-job.ts';
import { jobStates } from './wire-report.ts';
import { type JobEvent, jobEventFromWire } from './wire-watch.ts';
import { statusFromWire } from './wire-status.ts';
import type { ClusterStatus, JobState } from './wire-status.ts';

/** The environment variable naming the coordinator when no `--coordinator` is given. */
export const COORDINATOR_ENV = 'TSMR_COORDINATOR';

/** Where a coordinator is and the token it wants. */
export interface ClusterConnection {
  /** `http://host:port` or `https://host:port`. */
  url: string;
  /** The cluster token; undefined sends none (a coordinator on loopback may need none). */
  token: string | undefined;
}

/**
 * Finds the coordinator: `coordinator` (`--coordinator`), else
 * `TSMR_COORDINATOR`, else the local cluster of `tsmr cluster start`; and its
 * token: `token`, else `--token-file`, else `TSMR_TOKEN`, else the local
 * cluster's token when the URL is the local cluster's.
 * @throws TsmrError `TSMR_USAGE` when no coordinator is given or running
 *   locally, or the token file or variable breaks the token rules (`token.ts`).
 */
export function resolveConnection(
  opts: {
    coordinator?: string;
    token?: string;
    tokenFile?: string;
    env?: Record<string, string | undefined>;
  } = {},
): ClusterConnection {
  const env = opts.env ?? process.env;
  const local = readClusterState(clusterDir(env));
  const url = opts.coordinator ?? env[COORDINATOR_ENV] ?? local?.url;
  if (url === undefined || url === '') {
    throw usageError(
      `no coordinator: give --coordinator <url>, set ${COORDINATOR_ENV}, or start a local cluster with tsmr cluster start`,
    );
  }
  const token =
    opts.token ??
    readClusterToken({ tokenFile: opts.tokenFile, env })?.token ??
    (local !== undefined && local.url === url
      ? readClusterToken({ tokenFile: local.tokenFile })?.token
      : undefined);
  return { url, token };
}

/** An event of a watched job. */
/** An event of a watched job: its start, progress snapshots, attempts, and the report last. */
export type WatchEvent = JobEvent;

export interface ClusterClient {
  readonly url: string;
  /** Stores a job bundle under its SHA-256 (idempotent). */
  uploadBundle(sha256: string, bytes: Uint8Array): Promise<void>;
  /** Queues a job; returns its id. Idempotent per `submissionId`, so it is retried on a lost answer. */
  submit(submission: JobSubmission): Promise<string>;
  /** One job's status (`jobId`), or every job's, and the workers. */
  status(jobId?: string): Promise<ClusterStatus>;
  /** The job's progress snapshots, then its report, which ends the stream. */
  watch(jobId: string, signal?: AbortSignal): AsyncGenerator<WatchEvent>;
  /** Cancels a job; returns its state after the call. */
  cancel(jobId: string, reason: string): Promise<JobState>;
  /** Stops the coordinator (its jobs are cancelled, its workers drained). */
  shutdown(reason: string): Promise<void>;
  /** Closes the connection. */
  close(): void;
}

/** Tries of an idempotent call that found the coordinator unavailable. */
const RETRIES = 3;
const RETRY_BASE_MS = 250;

/**
 * A client of the coordinator at `conn.url` (a connection of its own, opened
 * at the first call), or over `conn.transport` (tests).
 * @throws TsmrError `TSMR_USAGE` for a URL that is not `http(s)://host:port`.
 */
export function createClusterClient(
  conn: ClusterConnection | { url: string; transport: Transport },
): ClusterClient {
  const own: RpcTransport | undefined =
    'transport' in conn ? undefined : createRpcTransport({ baseUrl: conn.url, token: conn.token });
  const transport: Transport = 'transport' in conn ? conn.transport : own!;
  const rpc: Client<typeof ClientService> = createRpcClient(ClientService, { transport });
  const { url } = conn;
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw clientError(error, url, what);
    }
  };
  return {
    url,
    async uploadBundle(sha256, bundle) {
      await call('upload the job bundle', () => rpc.uploadBundle({ sha256, bundle }));
    },
    async submit(submission) {
      const request = submissionToWire(submission);
      for (let attempt = 0; ; attempt++) {
        try {
          return (await rpc.submitJob(request)).jobId;
        } catch (error) {
          const code = ConnectError.from(error).code;
          const transient = code === Code.Unavailable || code === Code.DeadlineExceeded;
          if (!transient || attempt >= RETRIES) throw clientError(error, url, 'submit the job');
          await new Promise((resolve) => setTimeout(resolve, RETRY_BASE_MS * 2 ** attempt));
        }
      }
    },
    async status(jobId) {
      return statusFromWire(await call('get the status', () => rpc.getStatus({ jobId })));
    },
    async *watch(jobId, signal) {
      const stream = rpc.watchJob({ jobId }, { signal, timeoutMs: 0 });
      const iterator = stream[Symbol.asyncIterator]();
      for (;;) {
        const next = await call(`watch job ${jobId}`, () => iterator.next());
        if (next.done) return;
        yield jobEventFromWire(next.value);
      }
    },
    async cancel(jobId, reason) {
      const answer = await call(`cancel job ${jobId}`, () => rpc.cancelJob({ jobId, reason }));
      return jobStates.fromWire(answer.state, 'CancelJobResponse.state');
    },
    async shutdown(reason) {
      await call('shut the coordinator down', () => rpc.shutdown({ reason }));
    },
    close() {
      own?.close();
    },
  };
}

/** A failed call as a {@link TsmrError} that names the coordinator (see the table above). */
export function clientError(error: unknown, url: string, what: string): TsmrError {
  if (error instanceof TsmrError) return error;
  const e = ConnectError.from(error);
  const cause = error;
  switch (e.code) {
    case Code.Unauthenticated:
      return new TsmrError(
        ErrorCode.AUTH,
        `the coordinator at ${url} refused the cluster token: give its token with --token-file <file> or TSMR_TOKEN`,
        { details: { coordinator: url } },
      );
    case Code.InvalidArgument:
    case Code.NotFound:
    case Code.ResourceExhausted:
      return usageError(`cannot ${what}: the coordinator at ${url} says: ${e.rawMessage}`, {
        coordinator: url,
      });
    case Code.Canceled:
      return new TsmrError(ErrorCode.CANCELLED, `${what}: cancelled`, { cause });
    case Code.Unavailable:
    case Code.DeadlineExceeded:
      return new TsmrError(
        ErrorCode.UNAVAILABLE,
        `cannot ${what}: the coordinator at ${url} is not reachable (${e.rawMessage}); ` +
          'is it running? (tsmr coordinator, or tsmr cluster start)',
        { details: { coordinator: url } },
      );
    default:
      return new TsmrError(
        ErrorCode.INTERNAL,
        `cannot ${what}: the coordinator at ${url} answered ${Code[e.code]}: ${e.rawMessage}`,
        { cause, details: { coordinator: url } },
      );
  }
}
