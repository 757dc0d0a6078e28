/**
 * Rate and ETA of a batch. The rate is measured over a sliding window of the
 * last `windowMs` (default 5 s) so that it follows changes in speed; before
 * the window has filled it is the average since the start.
 */
import type { BatchProgress } from './types.ts';

interface Sample {
  t: number;
  done: number;
}

export class ProgressTracker {
  readonly #start: number;
  readonly #windowMs: number;
  readonly #samples: Sample[] = [];
  #head = 0;

  /** `now` and every later time are in ms on one clock (normally `performance.now()`). */
  constructor(now: number, windowMs = 5000) {
    this.#start = now;
    this.#windowMs = windowMs;
    this.#samples.push({ t: now, done: 0 });
  }

  /** Progress at time `now` with `done` items finished, `failed` of them failed, of `total`. */
  snapshot(now: number, done: number, failed: number, total: number | undefined): BatchProgress {
    const last = this.#samples[this.#samples.length - 1]!;
    // Keep one sample per tenth of the window: memory stays constant.
    if (now - last.t >= this.#windowMs / 10) this.#samples.push({ t: now, done });
    while (
      this.#samples.length - this.#head > 1 &&
      now - this.#samples[this.#head + 1]!.t >= this.#windowMs
    ) {
      this.#head++;
    }
    if (this.#head > 64) {
      this.#samples.splice(0, this.#head);
      this.#head = 0;
    }
    const oldest = this.#samples[this.#head]!;
    const spanMs = now - oldest.t;
    const rate = spanMs > 0 ? ((done - oldest.done) * 1000) / spanMs : 0;
    const etaSeconds =
      total === undefined ? undefined : done >= total ? 0 : rate > 0 ? (total - done) / rate : undefined;
    return { done, failed, total, rate, etaSeconds, elapsedMs: now - this.#start };
  }
}
