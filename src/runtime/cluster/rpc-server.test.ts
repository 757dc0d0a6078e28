import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import https from 'node:https';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { ErrorCode, isTsmrError } from '../../errors.ts';
import { ClientService } from './gen/tsmr/cluster/v1/client_service_pb.js';
import { WorkerService } from './gen/tsmr/cluster/v1/worker_service_pb.js';
import { createRpcTransport } from './rpc-client.ts';
import type { RpcClientOptions } from './rpc-client.ts';
import { MESSAGE_MAX_BYTES, MiB } from './rpc-limits.ts';
import { createRpcServer, isLoopbackHost } from './rpc-server.ts';
import type { HttpRoutes, RpcServerOptions } from './rpc-server.ts';
import {
  TEST_TOKEN,
  haveOpenssl,
  memoryLogger,
  selfSignedCert,
  stubRoutes,
  withDeadline,
} from './test-support.ts';
import type { StubState } from './test-support.ts';

const metrics: HttpRoutes = (req, res, ctx) => {
  if (req.url !== '/metrics') return false;
  res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
  res.end(`tsmr_up 1\ntsmr_authorized ${ctx.authorized ? 1 : 0}\n`);
  return true;
};

async function startServer(t: TestContext, overrides: Partial<RpcServerOptions> = {}) {
  const state: StubState = { registered: [], sessions: [] };
  const { log, lines } = memoryLogger();
  const server = createRpcServer({
    host: '127.0.0.1',
    port: 0,
    token: TEST_TOKEN,
    routes: stubRoutes(state),
    httpRoutes: metrics,
    log,
    ...overrides,
  });
  t.after(() => server.close());
  const addr = await server.listen();
  return { server, addr, state, lines };
}

function clients(t: TestContext, opts: RpcClientOptions) {
  const transport = createRpcTransport(opts);
  t.after(() => transport.close());
  return { worker: createClient(WorkerService, transport), client: createClient(ClientService, transport) };
}

async function codeOf(p: Promise<unknown>): Promise<Code> {
  try {
    await p;
  } catch (error) {
    return ConnectError.from(error).code;
  }
  assert.fail('the call was accepted');
}

test('a child process SIGKILLed with an open Session: the server sees the stream end at once', async (t) => {
  const { addr, state } = await startServer(t);
  const child = spawn(
    process.execPath,
    [new URL('./fixtures/session-client.ts', import.meta.url).pathname, addr.url],
    {
      env: { ...process.env, TSMR_TOKEN: TEST_TOKEN },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  t.after(() => child.kill('SIGKILL'));
  const lines = createInterface({ input: child.stdout });
  const [first] = (await withDeadline(once(lines, 'line'), 20_000, 'the child attached')) as [string];
  assert.equal(first, 'attached 1');
  assert.equal(state.registered[0].workerId, 'child');
  assert.equal(state.sessions.length, 1);

  const killedAt = performance.now();
  child.kill('SIGKILL');
  const endedAt = await withDeadline(state.sessions[0].ended, 5000, 'the server saw the session end');
  const ms = endedAt - killedAt;
  t.diagnostic(`session end seen ${ms.toFixed(1)} ms after SIGKILL`);
  assert.ok(ms < 5000);
  await once(child, 'exit');
});

test('HTTP/1.1 (fetch) and HTTP/2 (Connect) on the same cleartext port', async (t) => {
  const { addr, state } = await startServer(t);
  const { worker, client } = clients(t, { baseUrl: addr.url, token: TEST_TOKEN });
  const reg = await worker.register({ workerId: 'w1', tsmrVersion: '0.1.0', slots: 4 });
  assert.equal(reg.incarnation, 1n);
  assert.equal(state.registered.length, 1);

  const plain = await fetch(`${addr.url}/metrics`);
  assert.equal(plain.status, 200);
  assert.equal(await plain.text(), 'tsmr_up 1\ntsmr_authorized 0\n');
  const authed = await fetch(`${addr.url}/metrics`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
  assert.equal(await authed.text(), 'tsmr_up 1\ntsmr_authorized 1\n');
  const missing = await fetch(`${addr.url}/nothing-here`);
  assert.equal(missing.status, 404);
  await missing.arrayBuffer();

  // Interleaved, both still work on the one port.
  assert.deepEqual((await client.getStatus({})).workers, []);
  assert.equal((await fetch(`${addr.url}/metrics`)).status, 200);
});

test('a wrong or missing token over a socket: UNAUTHENTICATED, a log line, and the server stays up', async (t) => {
  const { addr, state, lines } = await startServer(t);
  const wrong = clients(t, { baseUrl: addr.url, token: 'f'.repeat(TEST_TOKEN.length) });
  assert.equal(await codeOf(wrong.worker.register({ workerId: 'x', slots: 1 })), Code.Unauthenticated);
  const none = clients(t, { baseUrl: addr.url, token: undefined });
  assert.equal(await codeOf(none.client.getStatus({})), Code.Unauthenticated);
  // The gate runs before the body is read: an oversized request without the token is UNAUTHENTICATED.
  const huge = 'x'.repeat(MESSAGE_MAX_BYTES + 1);
  assert.equal(
    await codeOf(none.worker.heartbeat({ workerId: 'x', running: [{ jobId: huge }] })),
    Code.Unauthenticated,
  );
  assert.equal(state.registered.length, 0);
  const warns = lines.filter((l) => l.msg === 'refused an RPC without the cluster token');
  assert.deepEqual(
    warns.map((l) => l.reason),
    ['wrong', 'missing', 'missing'],
  );
  assert.match(String(warns[0].peer), /^127\.0\.0\.1:\d+$/);
  const right = clients(t, { baseUrl: addr.url, token: TEST_TOKEN });
  assert.equal((await right.worker.register({ workerId: 'w1', slots: 1 })).incarnation, 1n);
});

test('a message over the size limit is refused with RESOURCE_EXHAUSTED; the server stays up', async (t) => {
  const { addr } = await startServer(t);
  const { worker } = clients(t, { baseUrl: addr.url, token: TEST_TOKEN });
  const huge = 'x'.repeat(MESSAGE_MAX_BYTES + 1);
  assert.equal(
    await codeOf(worker.heartbeat({ workerId: 'w1', incarnation: 1n, running: [{ jobId: huge }] })),
    Code.ResourceExhausted,
  );
  assert.equal((await worker.heartbeat({ workerId: 'w1', incarnation: 1n })).reregister, false);
});

test('a 5 MiB bundle (over the 4 MiB default) goes up by ClientService and down by WorkerService', async (t) => {
  const { addr, state } = await startServer(t);
  const { worker, client } = clients(t, { baseUrl: addr.url, token: TEST_TOKEN });
  const bundle = randomBytes(MESSAGE_MAX_BYTES + MiB);
  const sha256 = createHash('sha256').update(bundle).digest('hex');
  await client.uploadBundle({ sha256, bundle });
  assert.equal(state.bundles?.size, 1);
  const down = await worker.getBundle({ sha256 });
  assert.ok(Buffer.from(down.bundle).equals(bundle));
  assert.equal(await codeOf(client.uploadBundle({ sha256: '0'.repeat(64), bundle })), Code.InvalidArgument);
  assert.equal(await codeOf(worker.getBundle({ sha256: '1'.repeat(64) })), Code.NotFound);
});

test('bytes that are no protobuf message: refused (Connect answers INTERNAL, as gRPC does), and the server stays up', async (t) => {
  const { addr } = await startServer(t);
  const res = await fetch(`${addr.url}/tsmr.cluster.v1.WorkerService/Heartbeat`, {
    method: 'POST',
    headers: { 'content-type': 'application/proto', authorization: `Bearer ${TEST_TOKEN}` },
    body: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]),
  });
  assert.equal(res.status, 500);
  const body = (await res.json()) as { code: string; message: string };
  assert.equal(body.code, 'internal');
  assert.match(body.message, /^parse binary/);
  const { worker } = clients(t, { baseUrl: addr.url, token: TEST_TOKEN });
  assert.equal((await worker.heartbeat({ workerId: 'w1', incarnation: 1n })).reregister, false);
});

test('binding 0.0.0.0 needs a token; with one it listens (traffic to 127.0.0.1 only)', async (t) => {
  const { log } = memoryLogger();
  const routes = stubRoutes({ registered: [], sessions: [] });
  assert.throws(
    () => createRpcServer({ host: '0.0.0.0', port: 0, token: undefined, routes, log }),
    (e: unknown) => isTsmrError(e) && e.code === ErrorCode.USAGE && /without a cluster token/.test(e.message),
  );
  const { addr } = await startServer(t, { host: '0.0.0.0' });
  assert.equal(addr.url, `http://127.0.0.1:${addr.port}`);
  const { worker } = clients(t, { baseUrl: addr.url, token: TEST_TOKEN });
  assert.equal((await worker.register({ workerId: 'w1', slots: 1 })).incarnation, 1n);
  // Loopback without a token is allowed.
  await startServer(t, { token: undefined });
});

test('isLoopbackHost', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1'])
    assert.ok(isLoopbackHost(h), h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1', ''])
    assert.ok(!isLoopbackHost(h), h);
});

test('close() ends open streams and connections at once, and is idempotent', async (t) => {
  // A grace longer than the deadline: close() must not need it when handlers end on shutdown.
  const { server, addr, state } = await startServer(t, { closeGraceMs: 60_000 });
  const { worker } = clients(t, { baseUrl: addr.url, token: TEST_TOKEN });
  const session = worker.session({ workerId: 'w1', incarnation: 1n }, { timeoutMs: 0 });
  const stream = session[Symbol.asyncIterator]();
  assert.equal((await stream.next()).value?.command.case, 'attached');
  const keepAlive = await fetch(`${addr.url}/metrics`); // leaves an idle HTTP/1.1 keep-alive connection
  await keepAlive.text();
  const closing = server.close();
  assert.equal(server.close(), closing);
  await withDeadline(closing, 5000, 'close()');
  await withDeadline(state.sessions[0].ended, 1000, 'the handler ended');
  const end = await stream.next().then(
    (r) => (r.done ? 'done' : 'message'),
    (e: unknown) => Code[ConnectError.from(e).code],
  );
  assert.ok(['done', 'Unavailable', 'Canceled'].includes(end), `stream ended with ${end}`);
  await assert.rejects(fetch(`${addr.url}/metrics`));
});

test('close() lets a call that ends within the grace answer', async (t) => {
  let started!: () => void;
  const inHandler = new Promise<void>((resolve) => (started = resolve));
  // The handler answers only once the server shuts down (ctx.signal), a turn of the event loop later.
  const late: RpcServerOptions['routes'] = (router) =>
    router.service(WorkerService, {
      register: () => ({ incarnation: 1n }),
      heartbeat: (_req, ctx) =>
        new Promise((resolve) => {
          ctx.signal.addEventListener('abort', () => setImmediate(() => resolve({ reregister: true })));
          started();
        }),
    });
  const { server, addr } = await startServer(t, { routes: late, closeGraceMs: 10_000 });
  const { worker } = clients(t, { baseUrl: addr.url, token: TEST_TOKEN });
  await worker.register({ workerId: 'w1', slots: 1 }); // a call that already ended does not count as drained
  const call = worker.heartbeat({ workerId: 'w1', incarnation: 1n });
  await withDeadline(inHandler, 5000, 'the heartbeat reached its handler');
  await withDeadline(server.close(), 5000, 'close()');
  assert.equal((await call).reregister, true);
});

test('close() cuts a call that outlives the grace', async (t) => {
  let started!: () => void;
  const inHandler = new Promise<void>((resolve) => (started = resolve));
  // A handler that ignores ctx.signal and never answers.
  const hang: RpcServerOptions['routes'] = (router) =>
    router.service(WorkerService, {
      heartbeat: () => {
        started();
        return new Promise<never>(() => {});
      },
    });
  const { server, addr } = await startServer(t, { routes: hang, closeGraceMs: 50 });
  const { worker } = clients(t, { baseUrl: addr.url, token: TEST_TOKEN });
  // No deadline: Connect would keep the call's deadline timer on the server for a handler that never returns.
  const call = codeOf(worker.heartbeat({ workerId: 'w1', incarnation: 1n }, { timeoutMs: 0 }));
  await withDeadline(inHandler, 5000, 'the call reached its handler');
  const t0 = performance.now();
  await withDeadline(server.close(), 5000, 'close()');
  assert.ok(performance.now() - t0 >= 40, 'close() gave the call its grace');
  assert.ok([Code.Unavailable, Code.Canceled].includes(await call), 'the call was cut');
});

test(
  'TLS: a client with the CA connects (HTTP/2 and HTTP/1.1), one without it is refused',
  { skip: !haveOpenssl() && 'no openssl' },
  async (t) => {
    const tls = selfSignedCert();
    const { addr } = await startServer(t, { tls });
    assert.match(addr.url, /^https:/);
    const withCa = clients(t, { baseUrl: addr.url, token: TEST_TOKEN, ca: tls.cert });
    assert.equal((await withCa.worker.register({ workerId: 'w1', slots: 1 })).incarnation, 1n);
    const withoutCa = clients(t, { baseUrl: addr.url, token: TEST_TOKEN });
    await assert.rejects(withoutCa.worker.register({ workerId: 'w2', slots: 1 }), /self-signed certificate/);

    const body = await new Promise<string>((resolve, reject) => {
      https
        .get(`${addr.url}/metrics`, { ca: tls.cert }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => resolve(`${res.httpVersion} ${text}`));
        })
        .on('error', reject);
    });
    assert.equal(body, '1.1 tsmr_up 1\ntsmr_authorized 0\n');
    // The server is still up for a client with the CA.
    assert.equal((await withCa.client.getStatus({})).jobs.length, 0);
  },
);
