/// <reference lib="dom" />
/**
 * One event stream for all the open tabs of a dashboard.
 *
 * A browser opens at most six HTTP/1.1 connections to one host, so with a
 * stream per tab the seventh tab of a dashboard waited for a connection for
 * as long as the others stayed open, and every tab cost the server a stream.
 * Instead, the tab that holds the Web Lock named after the page's path reads
 * the stream and passes every message on to the other tabs of the page over
 * a `BroadcastChannel`; a tab that opens asks for the state, and the reading
 * tab answers with its own. When the reading tab closes, its lock goes to a
 * waiting tab, which opens the stream (and gets the whole state first, as
 * any new stream does). A tab in the background that does not read the
 * stream leaves the channel, and costs nothing while updates come; back in
 * front it asks for the state again, as a new tab does. Where Web Locks are
 * missing (a page over plain HTTP from another host is not a secure
 * context), each tab reads its own stream.
 *
 * @module
 */
import type { Connection } from './context.ts';

/** What a tab does with the stream's messages. `state` and `updates` get the events' JSON. */
export interface StreamSink {
  state(json: string): void;
  updates(json: string): void;
  connection(connection: Connection): void;
}

/** The messages between the tabs of one page. */
type TabMessage =
  | { kind: 'state'; json: string; to?: string }
  | { kind: 'updates'; json: string }
  | { kind: 'connection'; connection: Connection; to?: string }
  | { kind: 'hello'; from: string };

/**
 * Feeds `local` from the page's one stream, read by `read` in whichever tab
 * holds the lock.
 * @param snapshot this tab's state as JSON (what the reading tab sends a new tab).
 */
export function shareStream(
  local: StreamSink,
  snapshot: () => string,
  read: (sink: StreamSink) => void,
): void {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  if (locks === undefined || typeof BroadcastChannel === 'undefined') {
    read(local);
    return;
  }
  const name = `tsmr-dashboard:${location.pathname}`;
  const id = crypto.randomUUID();
  let channel: BroadcastChannel | undefined;
  let reading = false;
  let connection: Connection = 'connecting';
  const post = (message: TabMessage): void => channel?.postMessage(message);
  const onMessage = (event: MessageEvent<TabMessage>): void => {
    const message = event.data;
    if (reading) {
      if (message.kind === 'hello') {
        post({ kind: 'state', json: snapshot(), to: message.from });
        post({ kind: 'connection', connection, to: message.from });
      }
      return;
    }
    // Answers to another tab's hello are not for this one.
    if (message.kind !== 'hello' && 'to' in message && message.to !== id) return;
    if (message.kind === 'state') local.state(message.json);
    else if (message.kind === 'updates') local.updates(message.json);
    else if (message.kind === 'connection') local.connection(message.connection);
  };
  const join = (): BroadcastChannel => {
    const joined = new BroadcastChannel(name);
    joined.onmessage = onMessage;
    return joined;
  };
  /** Joins the channel and asks the reading tab for the state. */
  const listen = (): void => {
    if (channel !== undefined) return;
    channel = join();
    post({ kind: 'hello', from: id });
  };
  const leave = (): void => {
    channel?.close();
    channel = undefined;
  };
  document.addEventListener('visibilitychange', () => {
    if (reading) return;
    if (document.hidden) leave();
    else listen();
  });
  if (!document.hidden) listen();
  void locks.request(name, () => {
    reading = true;
    channel ??= join();
    read({
      state(json) {
        local.state(json);
        post({ kind: 'state', json });
      },
      updates(json) {
        local.updates(json);
        post({ kind: 'updates', json });
      },
      connection(next) {
        connection = next;
        local.connection(next);
        post({ kind: 'connection', connection: next });
      },
    });
    // Held while the tab is open: the browser releases it when the tab closes.
    return new Promise<never>(() => {});
  });
}
