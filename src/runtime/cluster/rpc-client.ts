/**
 * Control-plane clients: Connect protocol, binary protobuf, over HTTP/2 (h2c,
 * or TLS with a CA), with the cluster token on every call.
 *
 * Why the Connect protocol rather than gRPC: the server speaks both (Connect's
 * router enables gRPC, gRPC-web and Connect), but Connect's unary calls are
 * plain POSTs with an HTTP status, which `curl` can replay when debugging, and
 * need no HTTP trailers; over HTTP/2 it streams (`Session`, `WatchJob`) like
 * gRPC. One HTTP/2 connection per transport carries every call, so a worker's
 * `Session` stream, heartbeats and reports share it, and the coordinator sees
 * that connection close when the worker's process dies.
 *
 * Sources: Connect-ES `createConnectTransport` and `Http2SessionManager`
 * (connect-node), `createClient` (connect).
 */
import type { DescService } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import type { Client, Interceptor, Transport } from '@connectrpc/connect';
import { Http2SessionManager, createConnectTransport } from '@connectrpc/connect-node';
import { usageError } from '../../errors.ts';
import { clientLimits } from './rpc-limits.ts';
import { bearerHeader } from './token.ts';

/** Default deadline of a unary call, ms. Streams and long polls pass their own `timeoutMs` (0: none). */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;

export interface RpcClientOptions {
  /** The server, `http://host:port` (h2c) or `https://host:port` (TLS). */
  baseUrl: string;
  /** The cluster token, sent as `authorization: Bearer <token>`; undefined sends none. */
  token: string | undefined;
  /** PEM CA certificate(s) that signed the server's certificate (`https` only; default: Node's roots). */
  ca?: string | Buffer;
  /** Deadline of a call without `timeoutMs` in its call options, ms (default {@link DEFAULT_CALL_TIMEOUT_MS}). */
  timeoutMs?: number;
  /**
   * Interval of HTTP/2 PINGs while calls are open, ms (default 10 000): a
   * server that does not answer within the same time is taken as gone and
   * every open call fails with `UNAVAILABLE`.
   */
  pingIntervalMs?: number;
}

/** Adds `authorization: Bearer <token>` to every call. */
export function bearerInterceptor(token: string): Interceptor {
  const value = bearerHeader(token);
  return (next) => (req) => {
    req.header.set('authorization', value);
    return next(req);
  };
}

/** A transport that owns its HTTP/2 connection. */
export interface RpcTransport extends Transport {
  /** Closes the connection and fails its open calls (`CANCELED`); a later call opens a new one. */
  close(): void;
}

/**
 * A Connect transport over HTTP/2 to `opts.baseUrl`. It opens its connection
 * on the first call and reopens it after a failure. An idle connection does
 * not keep the process alive.
 * @throws TsmrError `TSMR_USAGE` for a base URL that is not `http(s)://host:port`.
 */
export function createRpcTransport(opts: RpcClientOptions): RpcTransport {
  let url: URL;
  try {
    url = new URL(opts.baseUrl);
  } catch {
    throw usageError(
      `not a coordinator URL: ${opts.baseUrl} (expected http://host:port or https://host:port)`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw usageError(`a coordinator URL is http://host:port or https://host:port, got ${opts.baseUrl}`);
  }
  if (opts.ca !== undefined && url.protocol !== 'https:') {
    throw usageError(`a CA certificate was given for ${opts.baseUrl}, which is not https`);
  }
  const pingIntervalMs = opts.pingIntervalMs ?? 10_000;
  const sessionManager = new Http2SessionManager(
    url.origin,
    { pingIntervalMs, pingTimeoutMs: pingIntervalMs },
    opts.ca === undefined ? {} : { ca: opts.ca },
  );
  const transport = createConnectTransport({
    baseUrl: url.origin,
    httpVersion: '2',
    sessionManager,
    useBinaryFormat: true,
    interceptors: opts.token === undefined ? [] : [bearerInterceptor(opts.token)],
    defaultTimeoutMs: opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS,
    ...clientLimits,
  });
  return { ...transport, close: () => sessionManager.abort() };
}

/**
 * A typed client of `service` (e.g. `WorkerService`), over a transport made
 * from `opts` (a connection of its own, closed when idle), or over
 * `opts.transport` (clients sharing one share its connection; an in-process
 * transport in tests).
 */
export function createRpcClient<T extends DescService>(
  service: T,
  opts: RpcClientOptions | { transport: Transport },
): Client<T> {
  return createClient(service, 'transport' in opts ? opts.transport : createRpcTransport(opts));
}
