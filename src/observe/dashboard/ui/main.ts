/// <reference lib="dom" />
/**
 * The dashboard page: gets the state (embedded in a report page, or from the
 * server's event stream, which sends the whole state and then updates), and
 * renders the page the location hash names. Renders are coalesced into
 * animation frames, so a hidden tab does no work for updates.
 *
 * @module
 */
import type { TaskPhase } from '../views.ts';
import { PhaseTracker, type PhaseView } from '../../phase-view.ts';
import { applyUpdate, type DashboardState, type DashboardUpdate, emptyState } from '../model.ts';
import { type Connection, type PageContext, parseRoute, routes } from './context.ts';
import { h } from './dom.ts';
import { morphChildren } from './morph.ts';
import { jobPage } from './job-page.ts';
import { overviewPage } from './overview-page.ts';
import { workerPage } from './worker-page.ts';
import { shareStream, type StreamSink } from './shared-stream.ts';

let state: DashboardState = emptyState('local', Date.now());
let connection: Connection = 'connecting';
const trackers = new Map<string, PhaseTracker>();
const phases = new Map<string, Record<TaskPhase, PhaseView>>();
let frame: number | undefined;

function track(snapshot: DashboardState['jobs'][number]['progress']): void {
  if (snapshot === undefined) return;
  let tracker = trackers.get(snapshot.jobId);
  if (tracker === undefined) trackers.set(snapshot.jobId, (tracker = new PhaseTracker()));
  phases.set(snapshot.jobId, {
    map: tracker.view(snapshot, 'map'),
    reduce: tracker.view(snapshot, 'reduce'),
  });
}

function setState(next: DashboardState): void {
  state = next;
  trackers.clear();
  phases.clear();
  for (const job of state.jobs) track(job.progress);
  scheduleRender();
}

function onUpdates(updates: readonly DashboardUpdate[]): void {
  for (const update of updates) {
    applyUpdate(state, update);
    if (update.type === 'progress') track(update.snapshot);
  }
  scheduleRender();
}

/** Updates are drawn at most this often (navigation at once). */
const RENDER_INTERVAL_MS = 1000;
let renderedAt = -Infinity;
let timer: number | undefined;

/** Renders in the next animation frame, at most once per {@link RENDER_INTERVAL_MS} (a hidden tab: not at all). */
function scheduleRender(): void {
  if (frame !== undefined || timer !== undefined) return;
  const wait = renderedAt + RENDER_INTERVAL_MS - performance.now();
  if (wait > 0) {
    timer = window.setTimeout(() => {
      timer = undefined;
      scheduleRender();
    }, wait);
    return;
  }
  frame = requestAnimationFrame(() => {
    frame = undefined;
    renderedAt = performance.now();
    render();
  });
}

/** Renders in the next frame, now (the user moved to another page or resized it). */
function renderSoon(): void {
  renderedAt = -Infinity;
  window.clearTimeout(timer);
  timer = undefined;
  scheduleRender();
}

const STATUS_TEXT: Record<Connection, string> = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'disconnected, reconnecting…',
  ended: 'the run has ended: its last state',
  report: 'report (offline)',
};

function render(): void {
  const app = document.getElementById('app')!;
  const ctx: PageContext = { state, phases, connection, width: Math.max(600, app.clientWidth) };
  const route = parseRoute(location.hash);
  const mounted: Array<() => void> = [];
  const page =
    route.page === 'job'
      ? jobPage(ctx, route.jobId, route.attemptId, mounted)
      : route.page === 'worker'
        ? workerPage(ctx, route.workerId)
        : overviewPage(ctx);
  const nav = h(
    'nav',
    { class: 'top' },
    h('a', { class: 'brand', href: routes.overview() }, 'tsmr'),
    h('a', { href: routes.overview() }, 'Overview'),
    state.jobs.slice(-5).map((j) => h('a', { href: routes.job(j.start.jobId) }, j.start.name)),
    h('span', { class: `connection connection-${connection}`, id: 'connection' }, STATUS_TEXT[connection]),
  );
  morphChildren(app, [nav, page]);
  for (const callback of mounted) callback();
}

function connect(): void {
  shareStream(
    {
      state: (json) => setState(JSON.parse(json) as DashboardState),
      updates: (json) => onUpdates(JSON.parse(json) as DashboardUpdate[]),
      connection(next) {
        connection = next;
        scheduleRender();
      },
    },
    () => JSON.stringify(state),
    readStream,
  );
}

/** Reads the server's event stream into `sink` (in the one tab of the page that reads it, `shared-stream.ts`). */
function readStream(sink: StreamSink): void {
  const events = new EventSource('events');
  events.addEventListener('open', () => sink.connection('live'));
  events.addEventListener('error', () => {
    // A refused stream (a coordinator's session ended or was never made) is not retried by the
    // browser: loading the page again leads to the login.
    if (events.readyState === EventSource.CLOSED) {
      window.setTimeout(() => location.reload(), 1000);
    }
    // A local run's server stops with its process: nothing to reconnect to once its jobs ended.
    const over =
      state.source === 'local' && state.jobs.length > 0 && state.jobs.every((j) => j.status !== 'running');
    if (over) events.close();
    sink.connection(over ? 'ended' : 'reconnecting');
  });
  events.addEventListener('state', (e) => sink.state((e as MessageEvent<string>).data));
  events.addEventListener('update', (e) => sink.updates((e as MessageEvent<string>).data));
}

function start(): void {
  window.addEventListener('hashchange', renderSoon);
  window.addEventListener('resize', renderSoon);
  const embedded = document.getElementById('tsmr-data');
  if (embedded?.textContent) {
    connection = 'report';
    const report = JSON.parse(embedded.textContent) as DashboardState;
    if (location.hash === '' && report.jobs.length === 1)
      location.hash = routes.job(report.jobs[0]!.start.jobId);
    setState(report);
    return;
  }
  connect();
  scheduleRender();
}

start();
