import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { HTTP2_PREFACE, routeByPreface } from './protocol-sniff.ts';
import { withDeadline } from './test-support.ts';

const handler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => {
  res.end(`HTTP/${req.httpVersion} ${req.url}`);
};

async function sniffingServer(t: TestContext, timeoutMs?: number) {
  const h1 = http.createServer(handler);
  const h2 = http2.createServer(handler);
  const server = net.createServer((socket) => routeByPreface(socket, h1, h2, timeoutMs));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.close();
    h1.closeAllConnections();
  });
  return (server.address() as AddressInfo).port;
}

/**
 * Writes `chunks` one by one (each flushed before the next, so that the server
 * most likely reads them apart), then collects the answer until the server
 * ends the connection (`'end'`) or its first bytes (`'data'`).
 */
async function rawExchange(port: number, chunks: Buffer[], until: 'end' | 'data'): Promise<Buffer> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.setNoDelay(true);
  const got: Buffer[] = [];
  const done = once(socket, until);
  socket.on('data', (d: Buffer) => got.push(d));
  for (const chunk of chunks) {
    await new Promise<void>((resolve) => socket.write(chunk, () => resolve()));
    await new Promise((resolve) => setImmediate(resolve));
  }
  await withDeadline(done, 5000, 'an answer');
  socket.destroy();
  return Buffer.concat(got);
}

test('an HTTP/1.1 request whose first byte is P (a preface prefix) goes to the HTTP/1 server', async (t) => {
  const port = await sniffingServer(t);
  const request = Buffer.from(
    'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
  );
  const answer = (await rawExchange(port, [request.subarray(0, 1), request.subarray(1)], 'end')).toString(
    'latin1',
  );
  assert.match(answer, /^HTTP\/1\.1 200/);
  assert.match(answer, /HTTP\/1\.1 \/x$/);
});

test('an HTTP/2 preface split across writes goes to the HTTP/2 server', async (t) => {
  const port = await sniffingServer(t);
  const answer = await rawExchange(port, [HTTP2_PREFACE.subarray(0, 5), HTTP2_PREFACE.subarray(5)], 'data');
  assert.ok(answer.length >= 9, 'a frame came back');
  assert.equal(answer[3], 0x4, 'the first frame is SETTINGS (type 4)');
  // And a real HTTP/2 client works end to end.
  const session = http2.connect(`http://127.0.0.1:${port}`);
  t.after(() => session.close());
  const req = session.request({ ':path': '/y' });
  req.setEncoding('utf8');
  let body = '';
  req.on('data', (d: string) => (body += d));
  await withDeadline(once(req, 'end'), 5000, 'the HTTP/2 answer');
  assert.equal(body, 'HTTP/2.0 /y');
});

test('a connection that sends nothing is closed after the sniff timeout', async (t) => {
  const port = await sniffingServer(t, 50);
  const socket = net.connect(port, '127.0.0.1');
  socket.resume();
  await withDeadline(once(socket, 'close'), 5000, 'the silent connection closed');
});
