/// <reference lib="dom" />
/**
 * The event timeline of a job (Spark's "Event Timeline"): one row per slot
 * of each worker, one bar per attempt from its start to its end (a running
 * one to now). Colour says the phase (map, reduce) and the outcome (failed,
 * killed, duplicate); a dashed outline marks a speculative backup, a thick
 * dark outline a re-executed map (its earlier output was lost), a dotted
 * white outline a retry. Hovering a bar tells its task, attempt, worker, times,
 * records and bytes; clicking it opens its details.
 *
 * @module
 */
import { formatBytes, formatCount, formatDuration } from '../../units.ts';
import { assignLanes } from '../lanes.ts';
import type { AttemptView, JobView } from '../model.ts';
import { attemptsOf } from '../views.ts';
import { h, s } from './dom.ts';
import { keep } from './morph.ts';
import { clock } from './widgets.ts';

const LABEL_WIDTH = 120;
const AXIS_HEIGHT = 22;
const ROW_HEIGHT = 16;
const ROW_GAP = 2;
const WORKER_GAP = 8;
/** Tick steps, seconds. */
const STEPS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];

export interface TimelineOptions {
  job: JobView;
  /** The clock now (end of running bars). */
  now: number;
  width: number;
  selected?: string;
  onSelect(attemptId: string): void;
}

/** CSS classes of an attempt's bar (see the module doc). */
export function barClasses(a: AttemptView, lostTasks: ReadonlySet<string>): string {
  const kind = a.taskId.startsWith('m-') ? 'map' : 'reduce';
  const classes = ['bar', `kind-${kind}`, `status-${a.status}`];
  if (a.state === 'lost') classes.push('lost');
  if (a.speculative) classes.push('speculative');
  else if (lostTasks.has(a.taskId) && a.state !== 'lost') classes.push('reexecuted');
  else if (a.attempt > 0) classes.push('retry');
  return classes.join(' ');
}

/** The timeline of the job shown last: kept, so that a render updates its bars in place. */
let shown: { jobId: string; view: TimelineView } | undefined;

/**
 * The timeline of `options.job`. The same element comes back for the same
 * job, its bars updated in place (a bar under the pointer keeps its tooltip).
 */
export function timeline(options: TimelineOptions): HTMLElement {
  const { jobId } = options.job.start;
  if (shown?.jobId !== jobId) shown = { jobId, view: new TimelineView() };
  shown.view.update(options);
  return shown.view.el;
}

class TimelineView {
  readonly #svg = s('svg', { class: 'timeline', role: 'img', 'aria-label': 'attempt timeline' });
  readonly #bands = s('g');
  readonly #ticks = s('g');
  readonly #barsGroup = s('g');
  readonly #bars = new Map<string, Bar>();
  /** What the bands and ticks were drawn for: they are redrawn only when it changes. */
  #frameKey = '';
  readonly #empty = h('p', { class: 'muted' }, 'No attempt has started yet.');
  readonly el = keep(h('div', { class: 'timeline-box' }, this.#empty));
  #onSelect: (attemptId: string) => void = () => {};

  constructor() {
    this.#svg.append(this.#bands, this.#ticks, this.#barsGroup);
  }

  update(options: TimelineOptions): void {
    const { job, now, selected } = options;
    this.#onSelect = options.onSelect;
    const attempts = attemptsOf(job);
    if (attempts.length === 0) return;
    if (this.el.firstChild === this.#empty) this.el.replaceChildren(this.#svg, legend());
    const { lane, rows } = assignLanes(attempts);
    const lostTasks = new Set(attempts.filter((a) => a.state === 'lost').map((a) => a.taskId));
    const workers = [...new Set([...job.start.workers.map((w) => w.id), ...rows.keys()])];
    const slots = new Map(job.start.workers.map((w) => [w.id, w.slots]));

    const t0 = job.start.startedAt;
    const last = Math.max(
      t0 + 1,
      job.report?.finishedAt ?? now,
      ...attempts.map((a) => a.finishedAt ?? a.startedAt),
    );
    // A running job's axis grows in steps, so that between steps only running bars change
    // (the browser repaints them, not the whole timeline, at each render).
    const t1 = job.status === 'running' ? t0 + niceSpanMs(last - t0) : last;
    const plotWidth = Math.max(200, options.width - LABEL_WIDTH - 8);
    const x = (t: number) => LABEL_WIDTH + ((t - t0) / (t1 - t0)) * plotWidth;

    const rowTop = new Map<string, number>();
    let y = AXIS_HEIGHT;
    const bands: SVGElement[] = [];
    for (const worker of workers) {
      const n = Math.max(rows.get(worker) ?? 0, Math.min(slots.get(worker) ?? 0, 64), 1);
      rowTop.set(worker, y);
      const height = n * (ROW_HEIGHT + ROW_GAP);
      bands.push(
        s('rect', { class: 'worker-band', x: 0, y: y - 1, width: LABEL_WIDTH + plotWidth, height }),
        s('text', { class: 'worker-label', x: 4, y: y + ROW_HEIGHT - 4 }, worker),
        s('text', { class: 'slot-label', x: 4, y: y + 2 * ROW_HEIGHT }, `${n} slot${n === 1 ? '' : 's'}`),
      );
      y += height + WORKER_GAP;
    }
    const frameKey = JSON.stringify([[...rowTop], y, plotWidth, t1 - t0]);
    if (frameKey !== this.#frameKey) {
      this.#frameKey = frameKey;
      this.#bands.replaceChildren(...bands);
      this.#svg.setAttribute('width', String(LABEL_WIDTH + plotWidth + 8));
      this.#svg.setAttribute('height', String(y));
      const stepSec = STEPS.find((st) => (t1 - t0) / 1000 / st <= 10) ?? STEPS.at(-1)!;
      const ticks: SVGElement[] = [];
      for (let sec = 0; sec * 1000 <= t1 - t0; sec += stepSec) {
        const tx = x(t0 + sec * 1000);
        ticks.push(
          s('line', { class: 'tick', x1: tx, x2: tx, y1: AXIS_HEIGHT - 4, y2: y }),
          s('text', { class: 'tick-label', x: tx + 2, y: AXIS_HEIGHT - 8 }, formatTick(sec)),
        );
      }
      this.#ticks.replaceChildren(...ticks);
    }

    for (const a of attempts) {
      const id = `${a.taskId}_${a.attempt}`;
      const bar = this.#bars.get(id) ?? this.#newBar(id);
      const end = a.finishedAt ?? Math.max(now, a.startedAt);
      const bx = x(a.startedAt);
      const attrs: Record<string, string | number> = {
        class: barClasses(a, lostTasks) + (id === selected ? ' selected' : ''),
        x: bx,
        y: rowTop.get(a.worker)! + (lane.get(id) ?? 0) * (ROW_HEIGHT + ROW_GAP),
        width: Math.max(2, x(end) - bx - 1),
        'data-status': a.status,
        'aria-label': `${id} ${a.status}`,
      };
      // Only what changed: the browser repaints what a DOM change touches, even to the same value.
      for (const [name, value] of Object.entries(attrs)) {
        const text = String(value);
        if (bar.attrs.get(name) === text) continue;
        bar.attrs.set(name, text);
        bar.rect.setAttribute(name, text);
      }
      const title = barTitle(a, lane.get(id) ?? 0, now);
      if (bar.title.textContent !== title) bar.title.textContent = title;
    }
  }

  #newBar(id: string): Bar {
    const title = s('title');
    const rect = s(
      'rect',
      { height: ROW_HEIGHT, rx: 2, 'data-attempt': id, tabindex: 0, role: 'button' },
      title,
    );
    rect.addEventListener('click', () => this.#onSelect(id));
    rect.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') this.#onSelect(id);
    });
    this.#barsGroup.append(rect);
    const bar: Bar = { rect, title, attrs: new Map() };
    this.#bars.set(id, bar);
    return bar;
  }
}

/** A bar, and the attributes last set on it. */
interface Bar {
  rect: SVGRectElement;
  title: SVGTitleElement;
  attrs: Map<string, string>;
}

/** Spans of a running job's axis: 1, 1.5, 2, 3, 5, 7.5 times a power of ten, seconds (at least 10 s). */
const SPAN_FACTORS = [1, 1.5, 2, 3, 5, 7.5];

/** The axis span for `elapsedMs`: the next of {@link SPAN_FACTORS} at or above it, ms. */
export function niceSpanMs(elapsedMs: number): number {
  for (let decade = 10_000; ; decade *= 10) {
    for (const f of SPAN_FACTORS) if (f * decade >= elapsedMs) return f * decade;
  }
}

/** What hovering a bar tells. */
export function barTitle(a: AttemptView, lane: number, now: number): string {
  const id = `${a.taskId}_${a.attempt}`;
  const kind = a.taskId.startsWith('m-') ? 'map' : 'reduce';
  const lines = [
    `${id} · ${kind} · ${a.status}${a.speculative ? ' · speculative' : ''}${a.state === 'lost' ? ' · output lost' : ''}`,
    `task ${a.taskId}, attempt ${a.attempt}, worker ${a.worker}, slot row ${lane + 1}`,
    `started ${clock(a.startedAt)}, ${a.finishedAt === undefined ? 'running for' : 'ran'} ${formatDuration((a.finishedAt ?? now) - a.startedAt)}`,
  ];
  if (a.inputRecords !== undefined || a.inputBytes !== undefined) {
    lines.push(`read ${formatCount(a.inputRecords ?? 0)} records, ${formatBytes(a.inputBytes ?? 0)}`);
  }
  if (a.outputRecords !== undefined || a.outputBytes !== undefined) {
    lines.push(`wrote ${formatCount(a.outputRecords ?? 0)} records, ${formatBytes(a.outputBytes ?? 0)}`);
  }
  if (a.reason) lines.push(a.reason);
  if (a.error) lines.push(`${a.error.code ?? a.error.name}: ${a.error.message.split('\n', 1)[0]}`);
  return lines.join('\n');
}

function formatTick(sec: number): string {
  if (sec < 60) return `${Number(sec.toFixed(1))}s`;
  const m = Math.floor(sec / 60);
  return sec % 60 === 0 ? `${m}m` : `${m}m${Math.round(sec % 60)}s`;
}

const LEGEND: ReadonlyArray<[string, string]> = [
  ['bar kind-map status-committed', 'map'],
  ['bar kind-reduce status-committed', 'reduce'],
  ['bar kind-map status-running', 'running'],
  ['bar kind-map status-failed', 'failed'],
  ['bar kind-map status-killed', 'killed'],
  ['bar kind-map status-duplicate', 'duplicate'],
  ['bar kind-map status-committed speculative', 'speculative'],
  ['bar kind-map status-committed reexecuted', 're-executed'],
  ['bar kind-map status-committed retry', 'retry'],
  ['bar kind-map status-killed lost', 'output lost'],
];

function legend(): HTMLElement {
  return h(
    'div',
    { class: 'legend' },
    LEGEND.map(([classes, label]) =>
      h(
        'span',
        { class: 'legend-item' },
        s(
          'svg',
          { width: 22, height: 12 },
          s('rect', { class: classes, x: 1, y: 1, width: 20, height: 10, rx: 2 }),
        ),
        label,
      ),
    ),
  );
}
