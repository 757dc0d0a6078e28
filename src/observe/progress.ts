/**
 * Live job progress on a terminal, in a log, or not at all.
 *
 * The runtime emits a {@link ProgressSnapshot} about every 200 ms; a
 * {@link ProgressDisplay} turns the stream of snapshots into:
 *
 * - `tty`: one live bar per phase (map, reduce), redrawn in place with
 *   `cli-progress`'s `MultiBar`, and a line for failed attempts once there are any:
 *   ```text
 *   map    [████████████░░░░░░░░░░]  42%  10/24 tasks   1.2M rec/s  85.3 MB/s  ETA 12s
 *   reduce [░░░░░░░░░░░░░░░░░░░░░░]   0%   0/8  tasks     -- rec/s     -- B/s  waiting
 *   failed 2 attempts
 *   stalled (no progress; killed at 10 min 00 s): m-00003_0 42.0 s
 *   ```
 * - `plain` (stderr is a file or a pipe, e.g. CI logs): a line when a phase
 *   starts or finishes, and otherwise at most one line every 5 s:
 *   `map 42% 10/24 tasks 1.2M rec/s 85.3 MB/s ETA 12s`, and a `stalled …`
 *   line whenever the set of stalled attempts changes
 * - `quiet`: nothing.
 *
 * For the steps of a pipeline (snapshots with `step`), each step gets a
 * header line, `step 2/3 top-words`, and bars of its own below it; the bars
 * of the steps before stay on the screen as they ended.
 *
 * All times come from the snapshots (`now`, `startedAt`, `finishedAt`): the
 * display reads no clock, so what it prints is a function of the snapshots.
 * Percent, rates and ETA are those of `phase-view.ts`.
 *
 * @module
 */
import { MultiBar } from 'cli-progress';
import type { GenericBar, Options as BarOptions, Params as BarParams } from 'cli-progress';
import type { PhaseName, ProgressSnapshot } from '../engine/job-report.ts';
import { type PhaseState, PhaseTracker, type PhaseView } from './phase-view.ts';
import { formatBytes, formatDuration, formatEta, formatRate } from './units.ts';

/** How progress is shown. */
export type ProgressMode = 'tty' | 'plain' | 'quiet';

export interface ProgressDisplayOptions {
  mode: ProgressMode;
  /** Where to draw (default `process.stderr`). `tty` on a stream whose `isTTY` is not true falls back to `plain`. */
  stream?: NodeJS.WritableStream;
  /**
   * Lines shown below the bars (`tty`: redrawn in place with them; `plain`:
   * after each progress line), e.g. the worker table of `--monitor-workers`.
   * Called at each update.
   */
  extraLines?: () => readonly string[];
}

export interface ProgressDisplay {
  /** Shows a snapshot. Snapshots must come in `now` order; after {@link stop} they are ignored. */
  update(snapshot: ProgressSnapshot): void;
  /**
   * Ends the display: `tty` draws the bars a last time and moves below them
   * (call it before printing the report, and always call it: the bar's redraw
   * timer keeps the process alive until then). Idempotent.
   */
  stop(): void;
}

/** Phases in display order. */
const PHASES: readonly PhaseName[] = ['sample', 'map', 'reduce'];

/** The phases a snapshot has, in display order (`sample` only for a total-order job). */
function phasesOf(snapshot: ProgressSnapshot): PhaseName[] {
  return PHASES.filter((phase) => snapshot.phases[phase] !== undefined);
}

/** Plain mode prints a progress line at most this often (phase changes excepted). */
export const PLAIN_INTERVAL_MS = 5000;

/**
 * Chooses the progress mode of the CLI.
 *
 * - `quiet` → `quiet`.
 * - stderr is a terminal → `tty`, also with `json`: the JSON report goes to
 *   stdout (`tsmr run --json | jq` still shows a bar on the terminal).
 * - `json` off a terminal → `quiet`: nobody watches, and a machine reading the
 *   output (possibly with `2>&1`) gets only the JSON, warnings and errors.
 * - otherwise → `plain` (periodic lines, fit for CI logs).
 *
 * `isTTY` is that of the stream progress is drawn on (stderr), not stdout.
 */
export function chooseProgressMode(opts: { quiet?: boolean; json?: boolean; isTTY?: boolean }): ProgressMode {
  if (opts.quiet) return 'quiet';
  if (opts.isTTY) return 'tty';
  if (opts.json) return 'quiet';
  return 'plain';
}

/** Creates the display for `opts.mode`; see the module doc for what each mode prints. */
export function createProgressDisplay(opts: ProgressDisplayOptions): ProgressDisplay {
  const stream = opts.stream ?? process.stderr;
  const extra = opts.extraLines ?? (() => []);
  switch (opts.mode) {
    case 'tty':
      // cli-progress draws nothing useful off a terminal: log lines instead.
      return (stream as { isTTY?: boolean }).isTTY === true
        ? new StepDisplay(stream, () => new TtyDisplay(stream, extra))
        : new StepDisplay(stream, () => new PlainDisplay(stream, extra));
    case 'plain':
      return new StepDisplay(stream, () => new PlainDisplay(stream, extra));
    case 'quiet':
      return { update() {}, stop() {} };
  }
}

/**
 * A display per pipeline step: when a snapshot of another step comes, the
 * current display is stopped (its last lines stay) and, after a header line,
 * a new one takes the snapshots. Snapshots without a step go to one display.
 */
class StepDisplay implements ProgressDisplay {
  private readonly stream: NodeJS.WritableStream;
  private readonly create: () => ProgressDisplay;
  private inner: ProgressDisplay | undefined;
  private step: number | undefined;
  private stopped = false;

  constructor(stream: NodeJS.WritableStream, create: () => ProgressDisplay) {
    this.stream = stream;
    this.create = create;
  }

  update(snapshot: ProgressSnapshot): void {
    if (this.stopped) return;
    const step = snapshot.step;
    if (this.inner === undefined || (step !== undefined && step.index !== this.step)) {
      this.inner?.stop();
      if (step !== undefined) this.stream.write(`step ${step.index}/${step.count} ${step.name}\n`);
      this.step = step?.index;
      this.inner = this.create();
    }
    this.inner.update(snapshot);
  }

  stop(): void {
    this.stopped = true;
    this.inner?.stop();
  }
}

// ---------------------------------------------------------------------------
// What both modes show: a view of each phase (phase-view.ts).

/** The phase that failures are shown on: the first running one, else the last done one, else map. */
function activePhase(views: readonly PhaseView[]): PhaseName {
  const running = views.find((v) => v.state === 'running');
  const done = views.findLast((v) => v.state === 'done');
  return (running ?? done ?? views[0]!).phase;
}

/** `42%`: a fraction 0..1 as whole percent, rounded down (100% only when done). */
export function percentText(fraction: number): string {
  return `${Math.floor(fraction * 100)}%`;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/**
 * `stalled (no progress; killed at 10 min 00 s): m-00003_0 42.0 s, m-00007_1 12.0 s`,
 * or undefined when no attempt is stalled. At most three are named.
 */
export function stalledText(snapshot: ProgressSnapshot): string | undefined {
  const { stalled, taskTimeoutMs } = snapshot;
  if (stalled.length === 0) return undefined;
  const limit = taskTimeoutMs > 0 ? `; killed at ${formatDuration(taskTimeoutMs)}` : '';
  const named = stalled.slice(0, 3).map((a) => `${a.attemptId} ${formatDuration(a.idleMs)}`);
  if (stalled.length > 3) named.push(`${stalled.length - 3} more`);
  return `stalled (no progress${limit}): ${named.join(', ')}`;
}

function failedText(n: number): string {
  return `${n} failed attempt${n === 1 ? '' : 's'}`;
}

// ---------------------------------------------------------------------------
// tty

/** What a line of the MultiBar shows: a phase's bar, or the failed-attempts note below the bars. */
type BarPayload = PhaseBarPayload | { kind: 'note'; text: string };

interface PhaseBarPayload {
  kind: 'phase';
  view: PhaseView;
  /** What ends the line: `waiting`, `ETA 12s`, `done in 41s`. */
  tail: string;
  /** Digits of the largest task count among the bars, so that columns line up. */
  taskDigits: number;
  /** Length of the longest tail among the bars, so that bars have one width. */
  tailWidth: number;
}

const BAR_FULL = '\u2588';
const BAR_EMPTY = '\u2591';
/** Room kept for the tail (`done in 59m59s`) so that the bar does not change width as the ETA shrinks. */
const TAIL_MIN_WIDTH = 14;

function barTail(view: PhaseView): string {
  if (view.state === 'pending') return 'waiting';
  if (view.state === 'done') return `done in ${formatEta(view.elapsedMs)}`;
  return `ETA ${formatEta(view.etaMs)}`;
}

/**
 * One bar line. Everything but the tail is fixed-width so that columns line
 * up; the bar takes what the terminal has left (8..30 columns).
 */
function formatBarLine(payload: BarPayload, maxWidth: number): string {
  if (payload.kind === 'note') return payload.text;
  const { view, tail, taskDigits, tailWidth } = payload;
  const tasks = `${String(view.tasksDone).padStart(taskDigits)}/${String(view.tasksTotal).padEnd(taskDigits)} tasks`;
  const before = `${view.phase.padEnd(6)} [`;
  const after =
    `] ${percentText(view.fraction).padStart(4)}  ${tasks}  ` +
    `${formatRate(view.recordsPerSec, 'rec').padStart(11)}  ${formatRate(view.bytesPerSec, 'B').padStart(9)}  `;
  const width = Math.min(30, Math.max(8, maxWidth - 1 - before.length - after.length - tailWidth));
  const full = Math.round(view.fraction * width);
  return before + BAR_FULL.repeat(full) + BAR_EMPTY.repeat(width - full) + after + tail;
}

class TtyDisplay implements ProgressDisplay {
  private readonly stream: NodeJS.WritableStream;
  private readonly extra: () => readonly string[];
  /** Extra lines drawn so far (they stay, blank, when fewer come: a removed bar would stay on screen). */
  private extraShown = 0;
  private readonly tracker = new PhaseTracker();
  private multi: MultiBar | undefined;
  private readonly bars = new Map<string, GenericBar>();
  private stopped = false;

  constructor(stream: NodeJS.WritableStream, extra: () => readonly string[]) {
    this.stream = stream;
    this.extra = extra;
  }

  update(snapshot: ProgressSnapshot): void {
    if (this.stopped) return;
    const views = phasesOf(snapshot).map((phase) => this.tracker.view(snapshot, phase));
    const multi = (this.multi ??= new MultiBar({
      stream: this.stream,
      format: (_options: BarOptions, params: BarParams, payload: BarPayload) =>
        formatBarLine(payload, params.maxWidth),
      // Redraws come from update(); the timer only repaints unchanged text (a no-op).
      fps: 5,
      // Leave the terminal's state alone (cursor, line wrapping): nothing to
      // restore if the process dies, and no SIGINT handler of ours.
      hideCursor: false,
      linewrap: true,
      gracefulExit: false,
      clearOnComplete: false,
      stopOnComplete: false,
    }));
    // A reduce phase with no tasks (map-only job) gets no bar.
    const shown = views.filter((v) => v.phase === 'map' || v.tasksTotal > 0 || v.state !== 'pending');
    const taskDigits = Math.max(...shown.map((v) => String(v.tasksTotal).length));
    const tails = shown.map(barTail);
    const tailWidth = Math.max(TAIL_MIN_WIDTH, ...tails.map((t) => t.length));
    const lines = new Map<string, BarPayload>();
    for (const [i, view] of shown.entries()) {
      lines.set(view.phase, { kind: 'phase', view, tail: tails[i]!, taskDigits, tailWidth });
    }
    const extra = this.extra();
    this.extraShown = Math.max(this.extraShown, extra.length);
    for (let i = 0; i < this.extraShown; i++) lines.set(`extra-${i}`, { kind: 'note', text: extra[i] ?? '' });
    if (snapshot.failedAttempts > 0) {
      lines.set('failed', { kind: 'note', text: `failed ${plural(snapshot.failedAttempts, 'attempt')}` });
    }
    const stalled = stalledText(snapshot);
    // Once shown, the line stays (blank when nothing is stalled): a removed bar would stay on screen.
    if (stalled !== undefined || this.bars.has('stalled')) {
      lines.set('stalled', { kind: 'note', text: stalled ?? '' });
    }
    for (const [name, payload] of lines) {
      const bar = this.bars.get(name);
      if (bar) bar.update(payload);
      else this.bars.set(name, multi.create(1, 0, payload));
    }
    multi.update();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.multi?.stop();
  }
}

// ---------------------------------------------------------------------------
// plain

/** One plain line, e.g. `map 42% 10/24 tasks 1.2M rec/s 85.3 MB/s ETA 12s`. */
function formatPlainLine(
  view: PhaseView,
  event: 'started' | 'progress' | 'done',
  failedAttempts: number,
): string {
  const parts = [view.phase, percentText(view.fraction), `${view.tasksDone}/${view.tasksTotal} tasks`];
  if (event === 'started') {
    parts.push('started');
    if (view.bytesTotal > 0) parts.push(`(${formatBytes(view.bytesTotal)})`);
  } else {
    parts.push(formatRate(view.recordsPerSec, 'rec'), formatRate(view.bytesPerSec, 'B'));
    parts.push(
      event === 'done' ? `done in ${formatDuration(view.elapsedMs)}` : `ETA ${formatEta(view.etaMs)}`,
    );
  }
  if (failedAttempts > 0) parts.push(`(${failedText(failedAttempts)})`);
  return parts.join(' ');
}

class PlainDisplay implements ProgressDisplay {
  private readonly stream: NodeJS.WritableStream;
  private readonly tracker = new PhaseTracker();
  private readonly states: Record<PhaseName, PhaseState> = {
    sample: 'pending',
    map: 'pending',
    reduce: 'pending',
  };
  private lastLineAt = -Infinity;
  /** Attempt ids of the last `stalled` line printed. */
  private lastStalled = '';
  private stopped = false;
  private readonly extra: () => readonly string[];

  constructor(stream: NodeJS.WritableStream, extra: () => readonly string[]) {
    this.stream = stream;
    this.extra = extra;
  }

  update(snapshot: ProgressSnapshot): void {
    if (this.stopped) return;
    const views = phasesOf(snapshot).map((phase) => this.tracker.view(snapshot, phase));
    const active = activePhase(views);
    const lines: string[] = [];
    for (const view of views) {
      if (view.state === this.states[view.phase]) continue;
      this.states[view.phase] = view.state;
      const failed = view.phase === active ? snapshot.failedAttempts : 0;
      lines.push(formatPlainLine(view, view.state === 'done' ? 'done' : 'started', failed));
    }
    if (lines.length === 0 && snapshot.now - this.lastLineAt >= PLAIN_INTERVAL_MS) {
      const running = views.find((v) => v.state === 'running');
      if (running) lines.push(formatPlainLine(running, 'progress', snapshot.failedAttempts));
    }
    const stalledIds = snapshot.stalled.map((a) => a.attemptId).join(' ');
    if (stalledIds !== this.lastStalled) {
      this.lastStalled = stalledIds;
      const text = stalledText(snapshot);
      if (text !== undefined) lines.push(text);
    }
    if (lines.length > 0) {
      lines.push(...this.extra());
      this.lastLineAt = snapshot.now;
      this.stream.write(`${lines.join('\n')}\n`);
    }
  }

  stop(): void {
    this.stopped = true;
  }
}
