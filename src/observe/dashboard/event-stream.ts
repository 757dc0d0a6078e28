/**
 * Server-sent events (the `text/event-stream` of the HTML standard) from a
 * {@link DashboardStore} to open pages.
 *
 * A page that connects gets `event: state` (the whole state: the past of a
 * job opened mid-way), then `event: update` frames, each an array of
 * {@link DashboardUpdate}s. Updates are batched: at most one frame every
 * `flushMs`, with stale updates merged away ({@link mergeUpdate}), serialized
 * once and written to every page. So the cost per page is a socket write per
 * frame, whatever the job does; with no page open the store is not even
 * listened to; a page that goes away is forgotten when its connection closes.
 * A page that cannot keep up (more than `maxBufferedBytes` unsent) is cut
 * off: its `EventSource` reconnects and starts again from a fresh state.
 *
 * @module
 */
import type { HttpRequest, HttpResponse } from './app.ts';
import { type DashboardUpdate, mergeUpdate } from './model.ts';
import type { DashboardStore } from './store.ts';

export interface EventStreamOptions {
  /** Longest wait before an update is sent, ms (default 1000: pages render at most once a second). */
  flushMs?: number;
  /** A page with more than this many bytes unsent is cut off (default 4 MiB). */
  maxBufferedBytes?: number;
}

/** How long a browser waits before it reconnects, ms (the stream's `retry:` field). */
const RETRY_MS = 1000;

export class EventStreams {
  readonly #store: DashboardStore;
  readonly #flushMs: number;
  readonly #maxBufferedBytes: number;
  readonly #clients = new Set<HttpResponse>();
  #pending: DashboardUpdate[] = [];
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(store: DashboardStore, options: EventStreamOptions = {}) {
    this.#store = store;
    this.#flushMs = options.flushMs ?? 1000;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 4 * 2 ** 20;
  }

  /** Pages connected now. */
  get size(): number {
    return this.#clients.size;
  }

  /** Answers `req` with an event stream: the state now, then updates, until either side closes it. */
  open(req: HttpRequest, res: HttpResponse): void {
    // HTTP/2 has no connection-specific headers (Node refuses them).
    const http1 = req.httpVersionMajor === 1;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      ...(http1 ? { Connection: 'keep-alive' } : {}),
    });
    res.write(`retry: ${RETRY_MS}\nevent: state\ndata: ${JSON.stringify(this.#store.state)}\n\n`);
    this.#clients.add(res);
    this.#unsubscribe ??= this.#store.subscribe((update) => this.#queue(update));
    if (http1) req.socket.setNoDelay(true);
    res.on('close', () => this.#drop(res));
  }

  /** Sends what is pending, then ends every stream (the pages will try to reconnect). */
  close(): void {
    clearTimeout(this.#timer);
    this.#flush();
    for (const res of [...this.#clients]) {
      res.end();
      this.#drop(res);
    }
  }

  #queue(update: DashboardUpdate): void {
    mergeUpdate(this.#pending, update);
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => this.#flush(), this.#flushMs);
    this.#timer.unref();
  }

  #flush(): void {
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    const frame = `event: update\ndata: ${JSON.stringify(this.#pending)}\n\n`;
    this.#pending = [];
    for (const res of this.#clients) {
      if (unsent(res) > this.#maxBufferedBytes) res.destroy();
      else res.write(frame);
    }
  }

  #drop(res: HttpResponse): void {
    if (!this.#clients.delete(res) || this.#clients.size > 0) return;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending = [];
  }
}

/** Bytes written to `res` and not sent yet (HTTP/2: buffered in its stream). */
function unsent(res: HttpResponse): number {
  return 'stream' in res ? res.stream.writableLength : res.writableLength;
}
