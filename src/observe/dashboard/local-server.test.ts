/**
 * The local dashboard server on real sockets: the secret path, host check,
 * security headers, the front end, and the event stream (state first, then
 * batched updates; a closed page is forgotten).
 */
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import { after, before, test } from 'node:test';
import { pollUntil } from '../../../test/support/poll.ts';
import type { JobStart } from '../../engine/job-report.ts';
import { type LocalDashboard, startLocalDashboard } from './local-server.ts';
import type { DashboardState, DashboardUpdate } from './model.ts';
import { DashboardStore } from './store.ts';

let store: DashboardStore;
let dashboard: LocalDashboard;

before(async () => {
  store = new DashboardStore('local');
  dashboard = await startLocalDashboard(store, { flushMs: 50 });
});
after(() => dashboard.close());

interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

function get(url: string, options: { method?: string; host?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? 'GET', headers: options.host ? { host: options.host } : {} },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (s: string) => (body += s));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('error', reject).end();
  });
}

const start: JobStart = {
  jobId: 'job-1',
  name: 'wc',
  startedAt: 1,
  settings: {
    inputs: ['in'],
    workers: 1,
    reducers: 1,
    splitSize: 1,
    sortBufferBytes: 1,
    mergeFanIn: 2,
    maxAttempts: 1,
    taskTimeoutMs: 0,
    params: {},
  },
  tasks: { map: 1, reduce: 1 },
  workers: [{ id: 'local', slots: 1 }],
};

test('the page is under the secret path on 127.0.0.1, with headers that allow nothing but its own files', async () => {
  assert.match(dashboard.url, /^http:\/\/127\.0\.0\.1:\d+\/[\w-]{32}\/$/);
  const page = await get(dashboard.url);
  assert.equal(page.status, 200);
  assert.match(page.headers['content-type']!, /^text\/html/);
  assert.match(page.body, /<script src="app\.js" defer><\/script>/);
  assert.match(String(page.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
  assert.equal(page.headers['x-content-type-options'], 'nosniff');
  assert.equal(page.headers['referrer-policy'], 'no-referrer');
  assert.equal(page.headers['cache-control'], 'no-store');
  const js = await get(`${dashboard.url}app.js`);
  assert.equal(js.status, 200);
  assert.match(js.headers['content-type']!, /^text\/javascript/);
  assert.ok(js.body.includes('Leon Sorokin'), 'uPlot is bundled, with its licence');
  assert.ok((await get(`${dashboard.url}app.css`)).body.includes('.uplot'));
  assert.equal((await get(dashboard.url.slice(0, -1))).headers.location, new URL(dashboard.url).pathname);
});

test('a wrong secret, another path, another host name or method gets nothing', async () => {
  const { origin, pathname } = new URL(dashboard.url);
  const wrong = `/${'x'.repeat(32)}/`;
  for (const path of [wrong, '/', `${pathname.slice(0, -2)}/`, `${pathname}../`, `${wrong}api/state`]) {
    const r = await get(origin + path);
    assert.equal(r.status, 404, path);
    assert.doesNotMatch(r.body, /html|tsmr/i);
  }
  assert.equal((await get(`${dashboard.url}nothing`)).status, 404);
  assert.equal(
    (await get(dashboard.url, { host: `evil.example:${new URL(dashboard.url).port}` })).status,
    421,
  );
  assert.equal((await get(dashboard.url, { host: `localhost:${new URL(dashboard.url).port}` })).status, 200);
  assert.equal((await get(`${dashboard.url}api/state`, { method: 'POST' })).status, 405);
});

/** An open event stream: the events so far, parsed. */
function openStream(): Promise<{ events: Array<{ event: string; data: unknown }>; close(): void }> {
  return new Promise((resolve, reject) => {
    const req = request(`${dashboard.url}events`, (res) => {
      assert.match(res.headers['content-type']!, /^text\/event-stream/);
      const events: Array<{ event: string; data: unknown }> = [];
      let buffer = '';
      res.setEncoding('utf8').on('data', (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const fields = Object.fromEntries(
            buffer
              .slice(0, end)
              .split('\n')
              .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]),
          );
          buffer = buffer.slice(end + 2);
          events.push({ event: fields.event, data: JSON.parse(fields.data) });
        }
      });
      resolve({ events, close: () => req.destroy() });
    });
    req.on('error', reject).end();
  });
}

test('the event stream sends the state, then updates merged into batches; a closed page is forgotten', async () => {
  store.publish({ type: 'jobStarted', start });
  const stream = await openStream();
  await pollUntil('the state', () => stream.events.length >= 1);
  const [first] = stream.events;
  assert.equal(first!.event, 'state');
  assert.deepEqual(
    (first!.data as DashboardState).jobs.map((j) => j.start.jobId),
    ['job-1'],
    'a page opened mid-job sees the past',
  );
  assert.equal(dashboard.streams, 1);
  for (let i = 0; i < 20; i++) store.publish({ type: 'workers', now: i, workers: [] });
  store.publish({
    type: 'attempts',
    jobId: 'job-1',
    attempts: [{ taskId: 'm-00000', attempt: 0, worker: 'local', startedAt: 2, status: 'running' }],
  });
  await pollUntil('an update', () => stream.events.length >= 2);
  assert.equal(stream.events[1]!.event, 'update');
  assert.deepEqual(
    (stream.events[1]!.data as DashboardUpdate[]).map((u) =>
      u.type === 'workers' ? `workers@${u.now}` : u.type,
    ),
    ['workers@19', 'attempts'],
  );
  stream.close();
  await pollUntil('the stream to be forgotten', () => dashboard.streams === 0);
});

test('close() sends what is pending, then ends every stream', async () => {
  const own = await startLocalDashboard(store, { flushMs: 60_000 });
  const url = own.url;
  const stream = await new Promise<{ done: Promise<string> }>((resolve) => {
    request(`${url}events`, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (s: string) => (text += s));
      resolve({ done: new Promise((r) => res.on('end', () => r(text))) });
    }).end();
  });
  await pollUntil('the stream', () => own.streams === 1);
  store.publish({ type: 'jobEnded', jobId: 'job-1', status: 'succeeded' });
  await own.close();
  assert.match(await stream.done, /event: update\ndata: \[\{"type":"jobEnded"/);
});
