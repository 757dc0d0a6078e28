/// <reference lib="dom" />
/**
 * The event timeline of a job (Spark's "Event Timeline"): one row per slot
 * of each worker, one bar per attempt from its start to its end (a running
 * one to now). Colour says the phase (map, reduce) and the outcome (failed,
 * killed, duplicate); a dashed outline marks a speculative backup, a dark
 * outline with a mark a re-executed map (its earlier output was lost), a
 * notch a retry. Hovering a bar tells its task, attempt, worker, times,
 * records and bytes; clicking it opens its details.
 *
 * @module
 */
import { formatBytes, formatCount, formatDuration } from '../../units.ts';
import { assignLanes } from '../lanes.ts';
import type { AttemptView, JobView } from '../model.ts';
import { attemptsOf } from '../views.ts';
import { h, s } from './dom.ts';
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

/** The timeline drawn last, and whether the pointer is on it. */
let last: { jobId: string; selected?: string; el: HTMLElement; hovered: boolean } | undefined;

/**
 * The timeline of `options.job`. While the pointer is on the timeline drawn
 * last for the same job and selection, that one is returned as it is: a
 * redraw would take the bar's tooltip away from under the pointer.
 */
export function timeline(options: TimelineOptions): HTMLElement {
  const { jobId } = options.job.start;
  if (last?.hovered && last.jobId === jobId && last.selected === options.selected) return last.el;
  const el = draw(options);
  const drawn = { jobId, selected: options.selected, el, hovered: false };
  el.addEventListener('pointerenter', () => (drawn.hovered = true));
  el.addEventListener('pointerleave', () => (drawn.hovered = false));
  last = drawn;
  return el;
}

function draw(options: TimelineOptions): HTMLElement {
  const { job, now, selected } = options;
  const attempts = attemptsOf(job);
  if (attempts.length === 0) return h('p', { class: 'muted' }, 'No attempt has started yet.');
  const { lane, rows } = assignLanes(attempts);
  const lostTasks = new Set(attempts.filter((a) => a.state === 'lost').map((a) => a.taskId));
  const workers = [...new Set([...job.start.workers.map((w) => w.id), ...rows.keys()])];
  const slots = new Map(job.start.workers.map((w) => [w.id, w.slots]));

  const t0 = job.start.startedAt;
  const t1 = Math.max(
    t0 + 1,
    job.report?.finishedAt ?? now,
    ...attempts.map((a) => a.finishedAt ?? a.startedAt),
  );
  const plotWidth = Math.max(200, options.width - LABEL_WIDTH - 8);
  const x = (t: number) => LABEL_WIDTH + ((t - t0) / (t1 - t0)) * plotWidth;

  const rowTop = new Map<string, number>();
  let y = AXIS_HEIGHT;
  const labels: SVGElement[] = [];
  for (const worker of workers) {
    const n = Math.max(rows.get(worker) ?? 0, Math.min(slots.get(worker) ?? 0, 64), 1);
    rowTop.set(worker, y);
    const height = n * (ROW_HEIGHT + ROW_GAP);
    labels.push(
      s('rect', { class: 'worker-band', x: 0, y: y - 1, width: LABEL_WIDTH + plotWidth, height }),
      s('text', { class: 'worker-label', x: 4, y: y + ROW_HEIGHT - 4 }, worker),
      s('text', { class: 'slot-label', x: 4, y: y + 2 * ROW_HEIGHT }, `${n} slot${n === 1 ? '' : 's'}`),
    );
    y += height + WORKER_GAP;
  }
  const height = y;

  const stepSec = STEPS.find((st) => (t1 - t0) / 1000 / st <= 10) ?? STEPS.at(-1)!;
  const ticks: SVGElement[] = [];
  for (let sec = 0; sec * 1000 <= t1 - t0; sec += stepSec) {
    const tx = x(t0 + sec * 1000);
    ticks.push(
      s('line', { class: 'tick', x1: tx, x2: tx, y1: AXIS_HEIGHT - 4, y2: height }),
      s('text', { class: 'tick-label', x: tx + 2, y: AXIS_HEIGHT - 8 }, formatTick(sec)),
    );
  }

  const bars = attempts.map((a) => {
    const id = `${a.taskId}_${a.attempt}`;
    const end = a.finishedAt ?? Math.max(now, a.startedAt);
    const bx = x(a.startedAt);
    const by = rowTop.get(a.worker)! + (lane.get(id) ?? 0) * (ROW_HEIGHT + ROW_GAP);
    const classes = barClasses(a, lostTasks) + (id === selected ? ' selected' : '');
    const rect = s(
      'rect',
      {
        class: classes,
        x: bx,
        y: by,
        width: Math.max(2, x(end) - bx),
        height: ROW_HEIGHT,
        rx: 2,
        'data-attempt': id,
        'data-status': a.status,
        tabindex: 0,
        role: 'button',
        'aria-label': `${id} ${a.status}`,
      },
      s('title', {}, barTitle(a, lane.get(id) ?? 0, now)),
    );
    rect.addEventListener('click', () => options.onSelect(id));
    rect.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') options.onSelect(id);
    });
    return rect;
  });

  const svg = s(
    'svg',
    {
      class: 'timeline',
      width: LABEL_WIDTH + plotWidth + 8,
      height,
      role: 'img',
      'aria-label': 'attempt timeline',
    },
    labels,
    ticks,
    bars,
  );
  return h('div', { class: 'timeline-box' }, svg, legend());
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
