/**
 * Rates of cumulative counts (bytes, records) over a sliding window of
 * samples: what "MB/s now" means on the progress bars, the dashboard and the
 * worker table. Reads no clock: times come with the samples.
 *
 * @module
 */

/** Per-second rates of cumulative counts over the last `windowMs` of samples. */
export class RateWindow {
  readonly #windowMs: number;
  readonly #samples: Array<{ t: number; values: readonly number[] }> = [];

  /** @param windowMs how much recent time rates are taken over (default 10 s). */
  constructor(windowMs = 10_000) {
    this.#windowMs = windowMs;
  }

  /** Adds the counts at epoch ms `t` (samples in `t` order); drops those older than the window but one. */
  add(t: number, values: readonly number[]): void {
    const samples = this.#samples;
    samples.push({ t, values });
    // Keep one sample at or before the window's left edge, so the window is covered.
    while (samples.length > 2 && samples[1]!.t <= t - this.#windowMs) samples.shift();
  }

  /**
   * Per-second rate of each count between the oldest and newest sample (never
   * negative), or undefined while they span less than `minSpanMs`.
   */
  rates(minSpanMs: number): number[] | undefined {
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    if (first === undefined || last === undefined) return undefined;
    const dt = last.t - first.t;
    if (dt < minSpanMs || dt <= 0) return undefined;
    return last.values.map((v, i) => Math.max(0, ((v - (first.values[i] ?? 0)) * 1000) / dt));
  }
}
