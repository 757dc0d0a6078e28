/**
 * `totalOrder()`: the partitioner of a job whose output, all part files
 * concatenated in order, is sorted (Hadoop's `TotalOrderPartitioner` with
 * `InputSampler`). Runtime-free: what to sample is data, the sampling and the
 * range partitioning are the engine's (`src/task/input-sampler.ts`,
 * `src/shuffle/total-order-partitioner.ts`).
 */
import { ErrorCode, TsmrError } from '../errors.ts';

/** How the keys that choose the split points are sampled. */
export type SamplerKind = 'random' | 'split';

/** Options of {@link totalOrder}. */
export interface TotalOrderOptions {
  /**
   * Map output keys to sample, in all (default 100 000, Hadoop TeraSort's
   * `mapreduce.terasort.partitions.sample`). More samples balance the
   * reducers better and cost more before the map phase starts.
   */
  samples?: number;
  /**
   * Which records are sampled (default `'random'`):
   * - `'random'`: up to {@link TotalOrderOptions.maxSplitsSampled} splits
   *   drawn at random (seeded by the job's `seed`), and in each split
   *   consecutive records from windows at random offsets, one window per
   *   eighth of the split, so that a split's sorted runs do not bias the sample.
   * - `'split'`: the first records of up to `maxSplitsSampled` splits evenly
   *   spaced over the input (Hadoop's `InputSampler.SplitSampler`): cheapest,
   *   good for input whose order says nothing about its keys (TeraGen's).
   */
  sampler?: SamplerKind;
  /** Most splits read for samples (default 10, Hadoop's `maxSplitsSampled`). */
  maxSplitsSampled?: number;
}

/** A total-order partitioner as a job's `partition`: options with their defaults filled in. */
export interface TotalOrderPartitioner {
  readonly kind: 'totalOrder';
  readonly samples: number;
  readonly sampler: SamplerKind;
  readonly maxSplitsSampled: number;
}

/**
 * A total-order partitioner, for `defineJob({ partition: totalOrder() })`
 * (or `tsmr run --total-order`, `runJob(…, { totalOrder: true })`).
 *
 * Before the map phase, tsmr runs the job's `map` on a bounded sample of
 * input records (see {@link TotalOrderOptions.sampler}) into a collecting
 * context, sorts the sampled map output keys by their encoded bytes (the key
 * order, `src/shuffle/key-codec.ts`) and picks R − 1 distinct split points
 * that cut the sample into R parts as even as its keys allow. A map task then
 * sends key k to partition i when exactly i split points are ≤ k (a binary
 * search over the encoded bytes), so every key of partition i sorts before
 * every key of partition i + 1, and `part-r-00000 … part-r-<R−1>` concatenated
 * are in key order. All values of a key still meet in one reducer: a key that
 * covers much of the input makes its partition large. With fewer than R
 * distinct sample keys there are fewer split points, and the last part files
 * are empty. Sampling is its own phase (`phases.sample` in the job report).
 *
 * @throws TsmrError `TSMR_BAD_JOB` for an option out of range (`samples` and
 *   `maxSplitsSampled` integers >= 1, `sampler` one of `'random'`, `'split'`)
 *   or an unknown option.
 */
export function totalOrder(options: TotalOrderOptions = {}): TotalOrderPartitioner {
  return normalizeTotalOrder(options, 'totalOrder()');
}

/** True for a partitioner made by {@link totalOrder}. */
export function isTotalOrder(value: unknown): value is TotalOrderPartitioner {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'totalOrder';
}

/**
 * Checks total-order options and fills in their defaults.
 * @param where names the caller in error messages.
 * @throws TsmrError `TSMR_BAD_JOB`, see {@link totalOrder}.
 */
export function normalizeTotalOrder(options: TotalOrderOptions, where: string): TotalOrderPartitioner {
  const bad = (what: string): TsmrError => new TsmrError(ErrorCode.BAD_JOB, `${where}: ${what}`);
  if (typeof options !== 'object' || options === null) throw bad('options must be an object');
  for (const name of Object.keys(options)) {
    if (!['samples', 'sampler', 'maxSplitsSampled', 'kind'].includes(name)) {
      throw bad(`unknown option ${name} (options: samples, sampler, maxSplitsSampled)`);
    }
  }
  const { samples = 100_000, sampler = 'random', maxSplitsSampled = 10 } = options;
  if (!Number.isSafeInteger(samples) || samples < 1)
    throw bad(`samples must be an integer >= 1, got ${samples}`);
  if (!Number.isSafeInteger(maxSplitsSampled) || maxSplitsSampled < 1) {
    throw bad(`maxSplitsSampled must be an integer >= 1, got ${maxSplitsSampled}`);
  }
  if (sampler !== 'random' && sampler !== 'split') {
    throw bad(`sampler must be 'random' or 'split', got ${String(sampler)}`);
  }
  return Object.freeze({ kind: 'totalOrder', samples, sampler, maxSplitsSampled });
}
