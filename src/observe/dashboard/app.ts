/**
 * The dashboard as an HTTP application, at whatever root a server mounts it
 * (local mode: under the run's secret path; the coordinator later: behind
 * its login): `/` the page, `/app.js` and `/app.css` its front end,
 * `/events` the event stream, `/api/state` the state as JSON. It answers
 * GET and HEAD only; authentication is the mounting server's.
 *
 * @module
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { dashboardAssets } from './assets.ts';
import { type EventStreamOptions, EventStreams } from './event-stream.ts';
import { livePage, SECURITY_HEADERS } from './page.ts';
import type { DashboardStore } from './store.ts';

/** A request over HTTP/1.1, or HTTP/2 (Node's compatibility API: a coordinator with TLS). */
export type HttpRequest = IncomingMessage | Http2ServerRequest;
export type HttpResponse = (
  | Omit<ServerResponse, 'writeHead' | 'write' | 'end'>
  | Omit<Http2ServerResponse, 'writeHead' | 'write' | 'end'>
) & {
  writeHead(status: number, headers?: OutgoingHttpHeaders): unknown;
  write(chunk: string): boolean;
  end(): unknown;
  end(chunk: string): unknown;
};

export interface DashboardApp {
  /** Answers `req`, whose path below the app's root is `path` (starting with `/`, no query). */
  handle(req: HttpRequest, res: HttpResponse, path: string): void;
  /** Pages with an open event stream. */
  readonly streams: number;
  /** Ends every event stream. */
  close(): void;
}

export function createDashboardApp(store: DashboardStore, options: EventStreamOptions = {}): DashboardApp {
  const streams = new EventStreams(store, options);
  const send = (res: HttpResponse, status: number, type: string, body: string, head: boolean) => {
    res.writeHead(status, {
      ...SECURITY_HEADERS,
      'Content-Type': type,
      'Content-Length': Buffer.byteLength(body),
    });
    if (head) res.end();
    else res.end(body);
  };
  return {
    get streams() {
      return streams.size;
    },
    close: () => streams.close(),
    handle(req, res, path) {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
      const head = req.method === 'HEAD';
      if (req.method !== 'GET' && !head) {
        res.setHeader('Allow', 'GET, HEAD');
        return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', head);
      }
      switch (path) {
        case '/':
          return send(res, 200, 'text/html; charset=utf-8', livePage(), head);
        case '/app.js':
        case '/app.css':
          dashboardAssets().then(
            (assets) =>
              path === '/app.js'
                ? send(res, 200, 'text/javascript; charset=utf-8', assets.js, head)
                : send(res, 200, 'text/css; charset=utf-8', assets.css, head),
            (error: unknown) =>
              send(
                res,
                500,
                'text/plain; charset=utf-8',
                `cannot build the front end: ${String(error)}\n`,
                head,
              ),
          );
          return;
        case '/events':
          return streams.open(req, res);
        case '/api/state':
          return send(res, 200, 'application/json; charset=utf-8', JSON.stringify(store.state), head);
        default:
          return send(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
      }
    },
  };
}
