/**
 * The control-plane server of a coordinator: Connect RPC over HTTP/2 for
 * workers and clients, and plain HTTP routes (`/metrics`, the dashboard,
 * server-sent events) for browsers and Prometheus, on one port (DESIGN.md §9).
 *
 * - TLS (`tls: { cert, key }`): a `http2.createSecureServer` with
 *   `allowHTTP1`; ALPN picks HTTP/2 or HTTP/1.1.
 * - Cleartext: HTTP/2 with prior knowledge (h2c) and HTTP/1.1 on the same
 *   port, told apart by their first bytes (`protocol-sniff.ts`).
 *
 * Every RPC needs the cluster token (`rpc-router.ts`). Without a token the
 * server listens on loopback only: {@link createRpcServer} refuses any other
 * host (DESIGN.md §6).
 *
 * Sources: Connect-ES `connectNodeAdapter`; Node's `http2` compatibility API;
 * BullMQ's `Worker.close()` (memoised, each cleanup step caught on its own).
 */
import http from 'node:http';
import http2 from 'node:http2';
import type { Http2Session } from 'node:http2';
import net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { Code, ConnectError, createContextValues } from '@connectrpc/connect';
import type { ConnectRouter } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import type { ConnectNodeAdapterOptions } from '@connectrpc/connect-node';
import { usageError } from '../../errors.ts';
import type { Logger } from '../../observe/logger.ts';
import { routeByPreface } from './protocol-sniff.ts';
import type { MessageLimits } from './rpc-limits.ts';
import { peerKey, rpcRouterOptions } from './rpc-router.ts';
import { checkBearer } from './token.ts';

/**
 * A plain HTTP route: handles the request and returns true, or returns false
 * (404). Served over HTTP/1.1 and HTTP/2 alike. The server does not
 * authenticate these routes: `ctx.authorized` says whether the request
 * carried the cluster token, and a route that needs it checks.
 */
export type HttpRoutes = (req: NodeRequest, res: NodeResponse, ctx: { authorized: boolean }) => boolean;

type NodeHandler = NonNullable<ConnectNodeAdapterOptions['fallback']>;
/** `http.IncomingMessage` or `http2.Http2ServerRequest`. */
export type NodeRequest = Parameters<NodeHandler>[0];
/** `http.ServerResponse` or `http2.Http2ServerResponse`. */
export type NodeResponse = Parameters<NodeHandler>[1];

export interface RpcServerOptions {
  /** Address to listen on, e.g. `127.0.0.1`, `::1`, `0.0.0.0`. */
  host: string;
  /** Port; 0 picks a free one. */
  port: number;
  /** The cluster token; undefined allows loopback hosts only. */
  token: string | undefined;
  /** PEM certificate (chain) and private key: serve TLS instead of cleartext. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Registers the services: `router.service(WorkerService, impl, serviceLimits.worker)`. */
  routes: (router: ConnectRouter) => void;
  httpRoutes?: HttpRoutes;
  log: Logger;
  /** Router-wide message limits (default 4 MiB each way); services override them. */
  limits?: Partial<MessageLimits>;
  /** How long `close()` lets open calls end before it cuts their connections, ms (default 2000). */
  closeGraceMs?: number;
}

/** Where a server listens. */
export interface BoundAddress {
  host: string;
  port: number;
  /** A URL that reaches it from this machine (a wildcard host becomes loopback). */
  url: string;
}

export interface RpcServer {
  /** Starts listening (once; later calls return the same promise). */
  listen(): Promise<BoundAddress>;
  /**
   * Stops the server: no new connections; every handler's `ctx.signal` aborts
   * (with `UNAVAILABLE`: a handler should end its stream or answer); open
   * calls get `closeGraceMs` to end, connections then up to 250 ms to close
   * (so that answers already written reach their peers), and what is left
   * is cut. Each step is caught and logged on its own. Memoised and
   * idempotent; never rejects.
   */
  close(): Promise<void>;
}

/** True for `localhost` and the loopback addresses (127.0.0.0/8, ::1, ::ffff:127.x). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return net.isIPv4(v4) && v4.startsWith('127.');
}

/**
 * Creates (but does not start) the server.
 * @throws TsmrError `TSMR_USAGE` when `host` is not loopback and there is no token.
 */
export function createRpcServer(opts: RpcServerOptions): RpcServer {
  const { log } = opts;
  if (opts.token === undefined && !isLoopbackHost(opts.host)) {
    throw usageError(
      `refusing to listen on ${opts.host} without a cluster token: give --token-file or TSMR_TOKEN, ` +
        `or listen on 127.0.0.1`,
      { host: opts.host },
    );
  }
  const shutdown = new AbortController();
  const handler = connectNodeAdapter({
    ...rpcRouterOptions({ token: opts.token, log, limits: opts.limits, shutdownSignal: shutdown.signal }),
    routes: opts.routes,
    contextValues: (req) => createContextValues().set(peerKey, peerOf(req.socket)),
    fallback: (req, res) => {
      const authorized =
        opts.token !== undefined && checkBearer(req.headers.authorization, opts.token) === 'ok';
      if (opts.httpRoutes?.(req, res, { authorized })) return;
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('not found\n');
    },
  });

  // close() waits for open calls (responses, HTTP/1.1 or HTTP/2), lets the
  // connections close, then cuts what is left: a session closed with GOAWAY
  // keeps its socket until the peer sends its FIN, which a busy peer may never do.
  const sockets = new OpenSet<Socket>();
  const sessions = new OpenSet<Http2Session>();
  const responses = new OpenSet<NodeResponse>();
  const serve: NodeHandler = (req, res) => {
    responses.add(res);
    handler(req, res);
  };
  let listener: net.Server;
  let h1: http.Server | undefined;
  if (opts.tls) {
    listener = http2.createSecureServer({ ...opts.tls, allowHTTP1: true }, serve);
    listener.on('tlsClientError', (err: Error) => log.debug({ err }, 'TLS handshake failed'));
    listener.on('session', (s: Http2Session) => sessions.add(s));
  } else {
    const h2 = http2.createServer(serve);
    h1 = http.createServer(serve);
    h2.on('session', (s: Http2Session) => sessions.add(s));
    const h1Server = h1;
    listener = net.createServer((socket) => routeByPreface(socket, h1Server, h2));
  }
  listener.on('connection', (socket: Socket) => sockets.add(socket));

  let listening: Promise<BoundAddress> | undefined;
  let closing: Promise<void> | undefined;
  const scheme = opts.tls ? 'https' : 'http';

  return {
    listen() {
      listening ??= new Promise<BoundAddress>((resolve, reject) => {
        listener.once('error', reject);
        listener.listen(opts.port, opts.host, () => {
          listener.off('error', reject);
          listener.on('error', (err) => log.error({ err }, 'RPC server error'));
          // An http.Server tracks its connections (closeIdleConnections, and
          // the headersTimeout/requestTimeout checks against slow clients) from
          // its 'listening' event on; this one never listens itself.
          h1?.emit('listening');
          const { port } = listener.address() as AddressInfo;
          resolve({ host: opts.host, port, url: `${scheme}://${urlHost(opts.host)}:${port}` });
        });
      });
      return listening;
    },
    close() {
      closing ??= (async () => {
        const step = async (name: string, fn: () => unknown): Promise<void> => {
          try {
            await fn();
          } catch (err) {
            log.warn({ err, step: name }, 'RPC server close step failed');
          }
        };
        const closed = new Promise<void>((resolve) => {
          if (!listener.listening) resolve();
          else listener.close(() => resolve());
        });
        await step('abort handlers', () =>
          shutdown.abort(new ConnectError('the server is shutting down', Code.Unavailable)),
        );
        await step('close HTTP/2 sessions', () => sessions.items.forEach((s) => s.close()));
        await step('close idle HTTP/1 connections', () => h1?.close());
        await step('wait for open calls', () => within(responses.empty(), opts.closeGraceMs ?? 2000));
        await step('close HTTP/1 connections now idle', () => h1?.closeIdleConnections());
        await step('let answers reach their peers', () => within(sockets.empty(), FLUSH_MS));
        await step('cut HTTP/2 sessions', () => sessions.items.forEach((s) => s.destroy()));
        await step('cut connections', () => sockets.items.forEach((s) => s.destroy()));
        await step('wait for the listener', () => closed);
      })();
      return closing;
    },
  };
}

/** How long close() lets answers already written reach their peers before it cuts connections, ms. */
const FLUSH_MS = 250;

/** Open things (sockets, sessions, responses), each kept until it emits 'close'. */
class OpenSet<T extends { once(event: 'close', fn: () => void): unknown }> {
  readonly items = new Set<T>();
  private waiters: Array<() => void> = [];

  add(item: T): void {
    this.items.add(item);
    item.once('close', () => {
      this.items.delete(item);
      if (this.items.size === 0) for (const resolve of this.waiters.splice(0)) resolve();
    });
  }

  /** Resolves once the set is empty. */
  empty(): Promise<void> {
    return this.items.size === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}

function peerOf(socket: Socket): string {
  return `${socket.remoteAddress}:${socket.remotePort}`;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '[::1]';
  return net.isIPv6(host) ? `[${host}]` : host;
}

/** Resolves when `p` settles or after `ms`, whichever comes first. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
