/**
 * HTTP/2 and HTTP/1.1 on one cleartext port.
 *
 * With TLS, ALPN picks the protocol and Node's `allowHTTP1` does the rest. In
 * cleartext there is no ALPN, and Node's `http2.createServer({ allowHTTP1 })`
 * ignores the option (checked on Node 24: an HTTP/1.1 client gets HTTP/2
 * frames). So the listening socket is a plain `net.Server`, and each new
 * connection is read until its first bytes tell: an HTTP/2 client with prior
 * knowledge (RFC 9113 §3.3, h2c) starts with the 24-byte connection preface
 * `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`; anything else is HTTP/1.1 (a request
 * line never starts that way). The bytes read are put back (`unshift`) and the
 * socket is handed to the `http2` or the `http` server as a new connection
 * (the httpolyglot technique).
 */
import type { Server as Http1Server } from 'node:http';
import type { Http2Server } from 'node:http2';
import type { Socket } from 'node:net';

/** RFC 9113 §3.4 client connection preface. */
export const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** A connection that has not sent enough bytes to be routed by then is closed, ms. */
export const SNIFF_TIMEOUT_MS = 10_000;

/**
 * Reads `socket` until its protocol is known, then hands it to `h2` (an
 * HTTP/2 preface) or `h1` (anything else). A socket that errors, ends or stays
 * silent for `timeoutMs` first is destroyed.
 */
export function routeByPreface(
  socket: Socket,
  h1: Http1Server,
  h2: Http2Server,
  timeoutMs = SNIFF_TIMEOUT_MS,
): void {
  let seen: Buffer = Buffer.alloc(0);
  const stop = (): void => {
    socket.off('data', onData);
    socket.off('error', onGone);
    socket.off('end', onGone);
    socket.setTimeout(0);
    socket.off('timeout', onGone);
  };
  const onGone = (): void => {
    stop();
    socket.destroy();
  };
  const onData = (chunk: Buffer): void => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, HTTP2_PREFACE.length);
    const isH2 = seen.subarray(0, n).equals(HTTP2_PREFACE.subarray(0, n));
    if (isH2 && seen.length < HTTP2_PREFACE.length) return; // a prefix of the preface: read on
    stop();
    socket.pause();
    socket.unshift(seen);
    if (isH2) {
      // An Http2Session takes over the socket's handle and first reads what is buffered.
      h2.emit('connection', socket);
    } else {
      // The HTTP/1 parser reads the handle directly; the buffered bytes reach it
      // as 'data' once the socket flows again.
      h1.emit('connection', socket);
      socket.resume();
    }
  };
  socket.on('data', onData);
  socket.on('error', onGone);
  socket.on('end', onGone);
  socket.setTimeout(timeoutMs);
  socket.on('timeout', onGone);
}
