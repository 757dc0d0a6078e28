/**
 * The coordinator's dashboard on a real coordinator (real sockets): the
 * login (form, wrong token refused and logged without the token, the session
 * cookie's attributes), every route and the event stream behind it, a
 * registered worker in the state; without a token, no login but loopback
 * host names only; under TLS, the event stream over HTTP/2.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, constants } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startCoordinator, type Coordinator } from '../../runtime/cluster/coordinator.ts';
import { WorkerService } from '../../runtime/cluster/gen/tsmr/cluster/v1/worker_service_pb.js';
import { createRpcClient, createRpcTransport } from '../../runtime/cluster/rpc-client.ts';
import { haveOpenssl, memoryLogger, selfSignedCert, TEST_TOKEN } from '../../runtime/cluster/test-support.ts';
import { tsmrVersion } from '../../runtime/cluster/tsmr-version.ts';
import type { DashboardState } from './model.ts';

interface Reply {
  status: number;
  headers: Headers;
  body: string;
}

async function get(url: string, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(url, { redirect: 'manual', ...init });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

function postLogin(url: string, token: string): Promise<Reply> {
  return get(`${url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
  });
}

/** The first `event: state` of the stream at `url`, then the stream is closed. */
async function firstState(url: string, cookie: string): Promise<DashboardState> {
  const abort = new AbortController();
  const res = await fetch(`${url}/events`, { headers: { cookie }, signal: abort.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const decoder = new TextDecoder();
  const reader = res.body!.getReader();
  let text = '';
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    text += decoder.decode(r.value, { stream: true });
    if (/event: state\ndata: .*\n\n/.test(text)) break;
  }
  abort.abort();
  const m = /event: state\ndata: (.*)\n\n/.exec(text);
  if (!m) throw new Error(`the stream ended without a state: ${text}`);
  return JSON.parse(m[1]!) as DashboardState;
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tsmr-coordinator-dashboard-'));
}

describe('coordinator dashboard with a cluster token', () => {
  let coordinator: Coordinator;
  let dir: string;
  const { log, lines } = memoryLogger();

  before(async () => {
    dir = tempDir();
    coordinator = await startCoordinator({ port: 0, token: TEST_TOKEN, workDir: dir, log });
  });
  after(async () => {
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('every route needs a login: the page redirects to the form, the rest is a bare 401', async () => {
    const page = await get(`${coordinator.url}/`);
    assert.equal(page.status, 303);
    assert.equal(page.headers.get('location'), 'login');
    for (const path of ['/events', '/api/state', '/app.js', '/job', '/']) {
      const r = await get(`${coordinator.url}${path}`, { method: path === '/' ? 'HEAD' : 'GET' });
      assert.equal(r.status, 401, path);
    }
    // A made-up session is no session.
    const forged = await get(`${coordinator.url}/api/state`, { headers: { cookie: 'tsmr_session=abc' } });
    assert.equal(forged.status, 401);
    const form = await get(`${coordinator.url}/login`);
    assert.equal(form.status, 200);
    assert.match(form.body, /<form method="post" action="login">/);
    assert.match(form.headers.get('content-security-policy') ?? '', /form-action 'self'/);
    assert.equal((await get(`${coordinator.url}/app.css`)).status, 200, 'the style sheet is public');
  });

  test('a wrong token is refused, and logged without the token', async () => {
    const wrong = 'wrong-token-0123456789abcdefXYZ';
    const r = await postLogin(coordinator.url, wrong);
    assert.equal(r.status, 401);
    assert.equal(r.headers.get('set-cookie'), null);
    assert.match(r.body, /Wrong token/);
    const refusal = lines.find((l) => l.msg === 'dashboard login refused: wrong token');
    assert.ok(refusal, 'the refusal is logged');
    assert.doesNotMatch(JSON.stringify(lines), new RegExp(`${wrong}|${TEST_TOKEN}`));
  });

  test('the right token gives an HttpOnly, SameSite=Strict session cookie that is not the token', async () => {
    const r = await postLogin(coordinator.url, TEST_TOKEN);
    assert.equal(r.status, 303);
    assert.equal(r.headers.get('location'), './');
    const setCookie = r.headers.get('set-cookie') ?? '';
    assert.match(
      setCookie,
      /^tsmr_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/,
    );
    assert.ok(!setCookie.includes(TEST_TOKEN));
    const cookie = setCookie.split(';', 1)[0]!;

    const page = await get(`${coordinator.url}/`, { headers: { cookie } });
    assert.equal(page.status, 200);
    assert.match(page.body, /<script src="app.js" defer>/);

    // A worker registers: the state the page gets lists it.
    const transport = createRpcTransport({ baseUrl: coordinator.url, token: TEST_TOKEN });
    try {
      await createRpcClient(WorkerService, { transport }).register({
        workerId: 'w-dash',
        tsmrVersion: tsmrVersion(),
        shuffleUrl: 'http://127.0.0.1:9',
        slots: 3,
        hostName: 'test-host',
        pid: process.pid,
      });
    } finally {
      transport.close();
    }
    const state = await firstState(coordinator.url, cookie);
    assert.equal(state.source, 'cluster');
    const worker = state.workers.find((w) => w.workerId === 'w-dash');
    assert.equal(worker?.state, 'alive');
    assert.equal(worker?.slots, 3);
    assert.equal(worker?.cluster?.hostName, 'test-host');
    assert.ok(!JSON.stringify(lines).includes(cookie.split('=')[1]!), 'the session id is not logged');
  });
});

describe('coordinator dashboard without a token', () => {
  let coordinator: Coordinator;
  let dir: string;

  before(async () => {
    dir = tempDir();
    coordinator = await startCoordinator({
      port: 0,
      token: undefined,
      workDir: dir,
      log: memoryLogger().log,
    });
  });
  after(async () => {
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('no login, loopback host names only', async () => {
    const page = await get(`${coordinator.url}/`);
    assert.equal(page.status, 200);
    assert.equal((await get(`${coordinator.url}/login`)).status, 303);
    const port = new URL(coordinator.url).port;
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      request(`${coordinator.url}/`, { headers: { host: `evil.example:${port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      })
        .on('error', reject)
        .end();
    });
    assert.equal(status, 421);
  });
});

describe(
  'coordinator dashboard over TLS',
  { skip: haveOpenssl() ? undefined : 'openssl is not installed' },
  () => {
    test('the event stream works over HTTP/2, and the cookie is Secure', async () => {
      const dir = tempDir();
      const tls = selfSignedCert();
      const coordinator = await startCoordinator({
        port: 0,
        token: TEST_TOKEN,
        tls,
        workDir: dir,
        log: memoryLogger().log,
      });
      const session = connect(coordinator.url, { ca: tls.cert, checkServerIdentity: () => undefined });
      try {
        const ask = (headers: Record<string, string>, body?: string) =>
          new Promise<{ headers: Record<string, unknown>; data: string }>((resolve, reject) => {
            const stream = session.request(headers);
            let data = '';
            let head: Record<string, unknown> = {};
            stream.setEncoding('utf8');
            stream.on('response', (h) => (head = h));
            stream.on('data', (s: string) => {
              data += s;
              if (data.includes('event: state')) stream.close(constants.NGHTTP2_CANCEL);
            });
            stream.on('close', () => resolve({ headers: head, data }));
            stream.on('error', reject);
            stream.end(body);
          });
        const login = await ask(
          { ':method': 'POST', ':path': '/login', 'content-type': 'application/x-www-form-urlencoded' },
          new URLSearchParams({ token: TEST_TOKEN }).toString(),
        );
        assert.equal(login.headers[':status'], 303);
        const setCookie = String(login.headers['set-cookie']);
        assert.match(setCookie, /; Secure$/);
        const events = await ask({
          ':method': 'GET',
          ':path': '/events',
          cookie: setCookie.split(';', 1)[0]!,
        });
        assert.equal(events.headers[':status'], 200);
        assert.match(events.data, /event: state\ndata: \{"source":"cluster"/);
      } finally {
        session.close();
        await coordinator.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);
