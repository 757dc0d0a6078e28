/**
 * Latency percentiles in constant memory: a log-scale histogram with buckets
 * 1% wide (in the spirit of HdrHistogram), so a percentile is within 0.5% of
 * the exact value whatever the number of samples. Min, max and mean are exact.
 */

const lowestMs = 0.001;
const ratio = 1.01;
const logRatio = Math.log(ratio);
/** Buckets from 1 µs to about 10^7 ms (2.8 hours); larger values share the last bucket. */
const bucketCount = Math.ceil(Math.log(1e7 / lowestMs) / logRatio) + 1;

export class LatencyHistogram {
  readonly #counts = new Float64Array(bucketCount);
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = -Infinity;

  /** Adds one sample in ms (negative values count as 0). */
  record(ms: number): void {
    const v = ms > 0 ? ms : 0;
    this.#counts[bucketOf(v)]!++;
    this.#count++;
    this.#sum += v;
    if (v < this.#min) this.#min = v;
    if (v > this.#max) this.#max = v;
  }

  get count(): number {
    return this.#count;
  }

  get min(): number {
    return this.#count === 0 ? 0 : this.#min;
  }

  get max(): number {
    return this.#count === 0 ? 0 : this.#max;
  }

  get mean(): number {
    return this.#count === 0 ? 0 : this.#sum / this.#count;
  }

  /** The `p`-th percentile (0–100) in ms, by the nearest-rank method; 0 when empty. */
  percentile(p: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#count));
    if (rank >= this.#count) return this.#max;
    let seen = 0;
    for (let i = 0; i < bucketCount; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.min(this.#max, Math.max(this.#min, valueOf(i)));
    }
    return this.#max;
  }
}

function bucketOf(ms: number): number {
  if (ms <= lowestMs) return 0;
  return Math.min(bucketCount - 1, 1 + Math.floor(Math.log(ms / lowestMs) / logRatio));
}

/** Geometric middle of bucket `i`: at most 0.5% from any value in it (bucket 0 holds [0, 1 µs]). */
function valueOf(i: number): number {
  if (i === 0) return 0;
  return lowestMs * ratio ** (i - 0.5);
}
