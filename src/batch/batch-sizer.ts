/**
 * Chooses how many items go to a worker thread in one message.
 *
 * A message costs a round trip (post, wake the thread, post back) whatever it
 * carries; an item costs its work. `auto` measures both — per item from the
 * work time the thread reports, per message from the time the message spent
 * travelling (the smallest seen, as thread start-up and a busy main thread
 * only ever add to it) — and sends enough items per message that the round
 * trip is at most `maxOverhead` (default 2%) of the work. The size is capped
 * so that, when the number of items is known, every thread still gets
 * several batches (otherwise the last batches leave threads idle).
 */

export interface BatchSizerOptions {
  /** A fixed size, or `auto`. */
  size: number | 'auto';
  /** Worker threads. */
  threads: number;
  /** Items in the whole batch, when known. */
  total?: number;
  /** Largest share of time spent on messaging (default 0.02). */
  maxOverhead?: number;
  /** Largest batch (default 10 000). */
  maxSize?: number;
}

/** Smallest per-message cost assumed, in ms: below this, timer noise dominates. */
const minRoundTripMs = 0.05;

export class BatchSizer {
  readonly #fixed: number | undefined;
  readonly #threads: number;
  readonly #total: number | undefined;
  readonly #maxOverhead: number;
  readonly #maxSize: number;
  #size: number;
  #itemMs: number | undefined;
  #roundTripMs = Infinity;

  constructor(options: BatchSizerOptions) {
    this.#fixed = options.size === 'auto' ? undefined : options.size;
    this.#threads = options.threads;
    this.#total = options.total;
    this.#maxOverhead = options.maxOverhead ?? 0.02;
    this.#maxSize = options.maxSize ?? 10_000;
    this.#size = this.#fixed ?? 1;
  }

  /** Items to put in the next message. */
  get size(): number {
    return this.#size;
  }

  /** Estimated work per item, in ms (undefined before the first batch). */
  get itemMs(): number | undefined {
    return this.#itemMs;
  }

  /** Estimated cost of one message round trip, in ms (undefined before the first batch). */
  get roundTripMs(): number | undefined {
    return Number.isFinite(this.#roundTripMs) ? this.#roundTripMs : undefined;
  }

  /** Records a finished batch of `items` that took `workMs` of work in the thread and `roundTripMs` in transit (both ways). */
  observe(items: number, workMs: number, roundTripMs: number): void {
    if (items <= 0) return;
    const perItem = Math.max(workMs, 0) / items;
    // Exponentially weighted: follows drift without jumping on one odd batch.
    this.#itemMs = this.#itemMs === undefined ? perItem : 0.7 * this.#itemMs + 0.3 * perItem;
    this.#roundTripMs = Math.min(this.#roundTripMs, Math.max(roundTripMs, minRoundTripMs));
    if (this.#fixed === undefined) this.#size = this.#autoSize();
  }

  #autoSize(): number {
    const itemMs = Math.max(this.#itemMs!, 1e-6);
    let size = Math.ceil(this.#roundTripMs / (this.#maxOverhead * itemMs));
    if (this.#total !== undefined) size = Math.min(size, Math.ceil(this.#total / (this.#threads * 8)));
    return Math.max(1, Math.min(this.#maxSize, size));
  }
}
