/// <reference lib="dom" />
/**
 * A job's input rate over time, per phase (bytes/s, shown as `85.3 MB/s`), drawn
 * with uPlot from the job's progress series. One chart per job page, kept
 * across renders: a render only hands it new data, at most every
 * {@link REDRAW_MS} while the job runs.
 *
 * @module
 */
import uPlot from 'uplot';
import type { JobView, ProgressSample } from '../model.ts';
import { formatRate } from '../../units.ts';
import { h } from './dom.ts';
import { keep } from './morph.ts';

const HEIGHT = 200;
/** A running job's chart is redrawn at most this often, ms (a redraw repaints its whole canvas). */
const REDRAW_MS = 5000;

const rate = (_u: uPlot, v: number | null): string => (v == null ? '--' : formatRate(v, 'B'));

/** x (s since `t0`), map and reduce input bytes/s between consecutive samples. */
export function rateSeries(series: readonly ProgressSample[], t0: number): [number[], number[], number[]] {
  const xs: number[] = [];
  const map: number[] = [];
  const reduce: number[] = [];
  for (let i = 1; i < series.length; i++) {
    const a = series[i - 1]!;
    const b = series[i]!;
    const dt = (b.t - a.t) / 1000;
    if (dt <= 0) continue;
    xs.push((b.t - t0) / 1000);
    map.push(Math.max(0, (b.mapBytes - a.mapBytes) / dt));
    reduce.push(Math.max(0, (b.reduceBytes - a.reduceBytes) / dt));
  }
  return [xs, map, reduce];
}

export class ThroughputChart {
  readonly jobId: string;
  /** Where the chart lives; put it in the page, then call {@link update}. */
  readonly el = keep(h('div', { class: 'chart' }));
  #plot: uPlot | undefined;
  #drawnAt = -Infinity;
  #note = h('p', { class: 'muted' });

  constructor(jobId: string) {
    this.jobId = jobId;
  }

  /** Draws `job`'s series at `width` pixels (the element must be in the document). */
  update(job: JobView, width: number): void {
    const data = rateSeries(job.series, job.start.startedAt);
    if (data[0].length < 2) {
      this.#note.textContent =
        job.status === 'running'
          ? 'The input rate appears after a few seconds.'
          : 'No rate history: it is recorded while a job runs (see the timeline).';
      this.el.replaceChildren(this.#note);
      this.#plot?.destroy();
      this.#plot = undefined;
      return;
    }
    if (this.#plot === undefined) {
      this.el.replaceChildren();
      this.#plot = new uPlot(
        {
          width,
          height: HEIGHT,
          scales: { x: { time: false } },
          series: [
            { label: 's since start', value: (_u, v) => (v == null ? '--' : `${v.toFixed(1)} s`) },
            { label: 'map', stroke: '#2563eb', width: 2, fill: 'rgba(37, 99, 235, 0.08)', value: rate },
            { label: 'reduce', stroke: '#16a34a', width: 2, fill: 'rgba(22, 163, 74, 0.08)', value: rate },
          ],
          axes: [
            { label: 'seconds since the job started' },
            { label: 'input read', size: 80, values: (_u, splits) => splits.map((v) => formatRate(v, 'B')) },
          ],
        },
        data,
        this.el,
      );
      return;
    }
    const resized = this.#plot.width !== width;
    if (!resized && job.status === 'running' && performance.now() - this.#drawnAt < REDRAW_MS) return;
    this.#drawnAt = performance.now();
    if (resized) this.#plot.setSize({ width, height: HEIGHT });
    this.#plot.setData(data);
  }
}
