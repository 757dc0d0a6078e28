/**
 * A phase's progress as people read it: percent, tasks, rates now, ETA. The
 * terminal display and the dashboard derive it the same way from the stream
 * of {@link ProgressSnapshot}s.
 *
 * Percent is by bytes (tasks when a phase's bytes are not known yet); rates
 * are taken over the last 10 s of snapshots (from the phase's start while
 * they span less than 2 s; over the whole phase once it is done); the ETA is
 * remaining bytes / byte rate. All times come from the snapshots: no clock.
 *
 * @module
 */
import type { PhaseName, PhaseProgress, ProgressSnapshot } from '../engine/job-report.ts';
import { RateWindow } from './rate-window.ts';

export type PhaseState = 'pending' | 'running' | 'done';

export interface PhaseView {
  phase: PhaseName;
  state: PhaseState;
  /** 0..1, by bytes (by tasks while the phase's bytes are unknown). */
  fraction: number;
  tasksDone: number;
  tasksRunning: number;
  tasksTotal: number;
  bytesTotal: number;
  /** Per second; NaN when unknown. */
  recordsPerSec: number;
  /** Per second; NaN when unknown. */
  bytesPerSec: number;
  /** Remaining time, ms; NaN when unknown. */
  etaMs: number;
  /** Time the phase has run (until `finishedAt` once done), ms. */
  elapsedMs: number;
}

/** Rates are measured over this much recent time. */
const RATE_WINDOW_MS = 10_000;
/** Below this span of samples, rates are averages since the phase started. */
const MIN_RATE_SPAN_MS = 2000;

export function phaseStateOf(p: PhaseProgress): PhaseState {
  if (p.finishedAt !== undefined) return 'done';
  if (p.startedAt !== undefined) return 'running';
  return 'pending';
}

/** Keeps the recent samples of each phase of one job and derives its {@link PhaseView}. */
export class PhaseTracker {
  readonly #windows: Record<PhaseName, RateWindow> = {
    sample: new RateWindow(RATE_WINDOW_MS),
    map: new RateWindow(RATE_WINDOW_MS),
    reduce: new RateWindow(RATE_WINDOW_MS),
  };

  /**
   * The view of `phase` in `snapshot`, which must have it (`sample` is there
   * for total-order jobs only); also feeds the rate window (call once per
   * snapshot and phase, in `now` order).
   */
  view(snapshot: ProgressSnapshot, phase: PhaseName): PhaseView {
    const p = snapshot.phases[phase] as PhaseProgress;
    const state = phaseStateOf(p);
    const now = snapshot.now;
    const window = this.#windows[phase];
    if (state === 'running') window.add(now, [p.bytesDone, p.records]);

    const start = p.startedAt ?? now;
    const end = state === 'done' ? p.finishedAt! : now;
    const elapsedMs = Math.max(0, end - start);

    let recordsPerSec = NaN;
    let bytesPerSec = NaN;
    const recent = state === 'running' ? window.rates(MIN_RATE_SPAN_MS) : undefined;
    if (recent !== undefined) {
      [bytesPerSec = NaN, recordsPerSec = NaN] = recent;
    } else if ((state === 'done' && elapsedMs > 0) || (state === 'running' && elapsedMs >= 500)) {
      recordsPerSec = (p.records * 1000) / elapsedMs;
      bytesPerSec = (p.bytesDone * 1000) / elapsedMs;
    }

    let fraction: number;
    if (state === 'done') fraction = 1;
    else if (p.bytesTotal > 0) fraction = p.bytesDone / p.bytesTotal;
    else if (p.tasksTotal > 0) fraction = p.tasksDone / p.tasksTotal;
    else fraction = 0;
    fraction = Math.min(1, Math.max(0, fraction));

    let etaMs = NaN;
    if (state === 'done') etaMs = 0;
    else if (state === 'running' && p.bytesTotal > 0 && bytesPerSec > 0) {
      etaMs = (Math.max(0, p.bytesTotal - p.bytesDone) * 1000) / bytesPerSec;
    }

    return {
      phase,
      state,
      fraction,
      tasksDone: p.tasksDone,
      tasksRunning: p.tasksRunning,
      tasksTotal: p.tasksTotal,
      bytesTotal: p.bytesTotal,
      recordsPerSec,
      bytesPerSec,
      etaMs,
      elapsedMs,
    };
  }
}
