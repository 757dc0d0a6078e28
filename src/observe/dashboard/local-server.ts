/**
 * `tsmr run --dashboard`: the dashboard on 127.0.0.1 only, under a random
 * per-run secret in the path (`http://127.0.0.1:<port>/<secret>/`), as
 * Jupyter's token URLs. Whoever has the printed URL sees the page; every other
 * path, and a request with a wrong secret, gets a bare 404 (the secret is
 * compared in constant time). Host names other than `127.0.0.1` and
 * `localhost` are refused (a DNS-rebinding page cannot reuse the URL). The
 * page uses relative URLs only, so the secret never needs to be in its code;
 * `Referrer-Policy: no-referrer` keeps it out of Referer headers.
 *
 * The coordinator will mount the same {@link createDashboardApp} behind a
 * login form and an HttpOnly, SameSite=Strict session cookie instead (no
 * token in URLs or logs there).
 *
 * @module
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDashboardApp } from './app.ts';
import type { EventStreamOptions } from './event-stream.ts';
import type { DashboardStore } from './store.ts';

export interface LocalDashboardOptions extends EventStreamOptions {
  /** TCP port on 127.0.0.1 (default 0: any free port). */
  port?: number;
}

export interface LocalDashboard {
  /** `http://127.0.0.1:<port>/<secret>/`: the page, for the user to open. */
  readonly url: string;
  /** Pages with an open event stream. */
  readonly streams: number;
  /** Ends every stream and connection and stops listening. Memoised. */
  close(): Promise<void>;
}

/**
 * Serves `store` on 127.0.0.1.
 * @throws the listen error (e.g. `EADDRINUSE` for a port in use).
 */
export async function startLocalDashboard(
  store: DashboardStore,
  options: LocalDashboardOptions = {},
): Promise<LocalDashboard> {
  const secret = randomBytes(24).toString('base64url');
  const prefix = Buffer.from(`/${secret}`);
  const app = createDashboardApp(store, options);
  let port = 0;
  const server = createServer((req, res) => route(req, res));

  function notFound(res: ServerResponse, status = 404, text = 'not found'): void {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(`${text}\n`);
  }

  function route(req: IncomingMessage, res: ServerResponse): void {
    const host = req.headers.host;
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) return notFound(res, 421, 'wrong host');
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const given = Buffer.from(path.slice(0, prefix.length));
    if (given.length !== prefix.length || !timingSafeEqual(given, prefix)) return notFound(res);
    const rest = path.slice(prefix.length);
    if (rest === '') {
      res.writeHead(308, { Location: `/${secret}/`, 'Cache-Control': 'no-store' });
      return void res.end();
    }
    if (!rest.startsWith('/')) return notFound(res);
    app.handle(req, res, rest);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/${secret}/`,
    get streams() {
      return app.streams;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        app.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
