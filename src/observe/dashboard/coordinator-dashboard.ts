/**
 * The coordinator's dashboard: {@link createDashboardApp} at the root of the
 * coordinator's port (its plain HTTP routes, next to the RPCs and
 * `/metrics`), behind a login when the cluster has a token.
 *
 * Login: `GET /login` is a form; `POST /login` with the cluster token in the
 * body (`application/x-www-form-urlencoded`, never in a URL) compares it with
 * the token in constant time. Right: a new session, a random 256-bit id in an
 * `HttpOnly; SameSite=Strict` cookie (`Secure` under TLS), valid
 * {@link SESSION_MS}; the server keeps only its SHA-256, so a look-up leaks
 * nothing about the ids it holds. Wrong: 401 and the form again, and a
 * warning in the log naming the peer (never the token). Every other route,
 * the event stream included, needs a live session: the page redirects to
 * the login, anything else gets a bare 401. The token is never in a cookie,
 * a URL or a log. Sessions live in memory: a restarted coordinator asks
 * again.
 *
 * Without a token (loopback only) there is no login; host names other than
 * loopback ones are refused then (a DNS-rebinding page cannot read it).
 *
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from '../logger.ts';
import { isLoopbackHost } from '../../runtime/cluster/rpc-server.ts';
import { tokensEqual } from '../../runtime/cluster/token.ts';
import { createDashboardApp, type DashboardApp, type HttpRequest, type HttpResponse } from './app.ts';
import type { EventStreamOptions } from './event-stream.ts';
import { LOGIN_HEADERS, loginPage, SECURITY_HEADERS } from './page.ts';
import type { ClusterJobs } from '../../runtime/cluster/cluster-jobs.ts';
import type { WorkerRegistry } from '../../runtime/cluster/worker-registry.ts';
import { feedClusterDashboard } from './cluster-feed.ts';
import type { DashboardStore } from './store.ts';

/** How long a login lasts, ms (12 h). */
export const SESSION_MS = 12 * 3600 * 1000;
/** Sessions kept; a new one past this drops the oldest. */
const MAX_SESSIONS = 1000;
/** Longest login body read, bytes (a token is at most 4096 characters). */
const MAX_LOGIN_BYTES = 8192;
export const SESSION_COOKIE = 'tsmr_session';

export interface CoordinatorDashboardOptions extends EventStreamOptions {
  /** Its jobs' handles are fed to it by the caller (`watchJob`); workers and pending jobs by this module. */
  store: DashboardStore;
  registry: WorkerRegistry;
  jobs: ClusterJobs;
  /** The cluster token; undefined: no login (the coordinator is on loopback only). */
  token: string | undefined;
  /** Served over TLS: the cookie is `Secure`. */
  secure: boolean;
  log: Logger;
}

export interface CoordinatorDashboard {
  /** Answers a plain HTTP request of the coordinator's port (always: unknown paths get a 404). */
  handle(req: HttpRequest, res: HttpResponse): void;
  /** Stops sampling and ends every event stream (before the server closes: they would hold it open). */
  close(): void;
}

export function createCoordinatorDashboard(opts: CoordinatorDashboardOptions): CoordinatorDashboard {
  const app: DashboardApp = createDashboardApp(opts.store, opts);
  const feed = feedClusterDashboard(opts.store, opts.registry, opts.jobs);
  /** SHA-256 of each session id → when it expires (epoch ms), oldest first. */
  const sessions = new Map<string, number>();
  const digest = (id: string) => createHash('sha256').update(id).digest('base64url');

  function loggedIn(req: HttpRequest): boolean {
    if (opts.token === undefined) return true;
    const id = cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (id === undefined) return false;
    const key = digest(id);
    const expires = sessions.get(key);
    if (expires === undefined) return false;
    if (expires > Date.now()) return true;
    sessions.delete(key);
    return false;
  }

  function newSession(): string {
    const id = randomBytes(32).toString('base64url');
    sessions.set(digest(id), Date.now() + SESSION_MS);
    for (const key of sessions.keys()) {
      if (sessions.size <= MAX_SESSIONS) break;
      sessions.delete(key);
    }
    return id;
  }

  function plain(
    res: HttpResponse,
    status: number,
    text: string,
    headers: Record<string, string> = {},
  ): void {
    res.writeHead(status, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/plain; charset=utf-8',
      ...headers,
    });
    res.end(`${text}\n`);
  }

  function form(res: HttpResponse, status: number, refused: boolean): void {
    const body = loginPage(refused);
    res.writeHead(status, {
      ...LOGIN_HEADERS,
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(body)),
    });
    res.end(body);
  }

  function login(req: HttpRequest, res: HttpResponse, token: string): void {
    const type = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') return plain(res, 415, 'a login is a form post');
    let body = '';
    let tooLong = false;
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > MAX_LOGIN_BYTES && !tooLong) {
        tooLong = true;
        plain(res, 413, 'login too long');
        req.destroy();
      }
    });
    req.on('end', () => {
      if (tooLong) return;
      const given = new URLSearchParams(body).get('token') ?? '';
      if (!tokensEqual(given, token)) {
        opts.log.warn({ peer: req.socket.remoteAddress }, 'dashboard login refused: wrong token');
        return form(res, 401, true);
      }
      const cookie =
        `${SESSION_COOKIE}=${newSession()}; Path=/; HttpOnly; SameSite=Strict; ` +
        `Max-Age=${SESSION_MS / 1000}${opts.secure ? '; Secure' : ''}`;
      opts.log.info({ peer: req.socket.remoteAddress }, 'dashboard login');
      res.writeHead(303, { ...SECURITY_HEADERS, Location: './', 'Set-Cookie': cookie });
      res.end();
    });
  }

  return {
    close() {
      feed.stop();
      app.close();
    },
    handle(req, res) {
      const path = (req.url ?? '/').split('?', 1)[0]!;
      const { token } = opts;
      if (token === undefined && !isLoopbackHost(hostName(req))) {
        return plain(res, 421, 'wrong host');
      }
      if (path === '/login') {
        if (token === undefined) return plain(res, 303, 'no login needed', { Location: './' });
        if (req.method === 'POST') return login(req, res, token);
        if (req.method === 'GET' || req.method === 'HEAD') return form(res, 200, false);
        return plain(res, 405, 'method not allowed', { Allow: 'GET, HEAD, POST' });
      }
      // The style sheet is public (the login page uses it); the rest needs a session.
      if (path !== '/app.css' && !loggedIn(req)) {
        if (path === '/' && req.method === 'GET') return plain(res, 303, 'log in', { Location: 'login' });
        return plain(res, 401, 'log in first (/login)');
      }
      app.handle(req, res, path);
    },
  };
}

/** The value of cookie `name` in a `Cookie` header (RFC 6265 §5.4), or undefined. */
function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const pair of (header ?? '').split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

/** The request's host name (`Host`, or HTTP/2's `:authority`) without its port. */
function hostName(req: HttpRequest): string {
  const host = req.headers.host ?? (req.headers[':authority'] as string | undefined) ?? '';
  return host.replace(/:\d+$/, '');
}
