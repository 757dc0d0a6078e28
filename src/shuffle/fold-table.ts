/**
 * The map-side hash table of jobs with `combineValues` (Spark's `reduceByKey`:
 * a binary fold `(a, b) => c`, applied as values are emitted).
 *
 * Each emit costs one hash-table lookup (key → entry id), then either a fold of the
 * value into the entry's slot (`values[id] = fold(values[id], value)`, a plain
 * JS array: numbers stay unboxed small integers or heap numbers, no log) or,
 * for a new key, an insert: the key is encoded once into a key arena and
 * partitioned once. Memory holds one value per distinct key, so word count
 * spills only when the vocabulary does not fit.
 *
 * Keys live in a {@link KeyIndex} (`key-index.ts`), as in the combine table
 * (`combine-table.ts`, whose helpers are shared).
 *
 * Values: a number is kept as it is. Any other value is encoded at emit (which
 * checks it can be written, gives its `MAP_OUTPUT_BYTES` and its size
 * estimate); objects are passed to the fold as a decoded copy, so that the
 * caller may mutate what it emitted.
 *
 * Memory accounting (`bytes`) is approximate: per distinct key
 * `ENTRY_BYTES` (`key-index.ts`) + 16 plus its key bytes twice (encoding and
 * string); per non-number value the
 * encoded size of what was folded into it (strings: their current length),
 * an over-estimate for folds that shrink (max, sum of objects…).
 */
import type { Key } from '../api/types.ts';
import { ErrorCode, TsmrError } from '../errors.ts';
import { ByteWriter } from './byte-writer.ts';
import { numberLength } from './combine-table.ts';
import { KeyIndex } from './key-index.ts';
import type { RunWriter } from './run-writer.ts';
import type { CheckedPartition } from './sort-buffer.ts';
import type { KeySorter } from './sort-index.ts';
import type { SortedKeys } from './sorted-keys.ts';
import { decodeValue, writeValue } from './value-codec.ts';

/** The job's `combineValues`: folds two values of one key into one. */
export type Fold = (a: unknown, b: unknown) => unknown;

/**
 * `fold(a, b)`, checked.
 * @throws TsmrError `TSMR_USER_CODE` when the fold throws; `TSMR_BAD_JOB` when it
 *   returns a promise (`combineValues` must be synchronous).
 */
export function applyFold(fold: Fold, a: unknown, b: unknown): unknown {
  // Small on purpose (the errors are built elsewhere): V8 inlines it into the emit path.
  let folded: unknown;
  try {
    folded = fold(a, b);
  } catch (cause) {
    throw foldThrew(cause);
  }
  if (
    typeof folded === 'object' &&
    folded !== null &&
    typeof (folded as PromiseLike<unknown>).then === 'function'
  )
    throw foldReturnedPromise();
  return folded;
}

function foldThrew(cause: unknown): TsmrError {
  return new TsmrError(
    ErrorCode.USER_CODE,
    `combineValues() threw: ${(cause as Error)?.message ?? String(cause)}`,
    { cause },
  );
}

function foldReturnedPromise(): TsmrError {
  return new TsmrError(
    ErrorCode.BAD_JOB,
    'combineValues() returned a promise: it must be synchronous (fold two values into one and return it)',
  );
}

/** Accounted bytes per distinct key besides `ENTRY_BYTES` and the key: value slot and emit count. */
const SLOT_BYTES = 16;

export class FoldTable {
  /** Pairs added (emits). */
  adds = 0;
  /** Keys with a value (emits > 0). */
  private live = 0;
  /** What a new table holding only the keys with a value would account: see {@link liveBytes}. */
  private liveMemory = 0;
  private fold: Fold;
  /** Key → entry id. */
  private readonly keys: KeyIndex;
  /** Approximate memory held by values, in bytes. */
  private valueMemory = 0;
  private readonly scratch = new ByteWriter(256);
  /**
   * Per entry id: the folded value at `2·id` and the emits of its key (for
   * `MAP_OUTPUT_BYTES`) at `2·id + 1`: side by side, one cache line per emit.
   * A key without emits (since a {@link reset}) has no value and is not written.
   */
  private readonly values: unknown[] = [];
  /** Per entry id: the size estimate of a non-number value (0 for numbers). */
  private readonly valueSizes: number[] = [];
  /** Encoded bytes of the values of all emits. */
  private valueBytes = 0;

  /** @param partition a checked partition function; `undefined` for the default hash partitioner. */
  constructor(numPartitions: number, partition: CheckedPartition | undefined, fold: Fold) {
    this.keys = new KeyIndex(numPartitions, partition, false);
    this.fold = fold;
  }

  /** Distinct keys with a value (after {@link reset}: keys added since). */
  get size(): number {
    return this.live;
  }

  /** Whether {@link FoldTableCache} may pass the table to a task with `numPartitions` partitions. */
  reusableFor(numPartitions: number): boolean {
    return this.keys.reusableFor(numPartitions);
  }

  /**
   * Forgets every value and counter but keeps the keys (their encodings,
   * partitions and sort order), and folds with `fold` from now on.
   */
  reset(fold: Fold): void {
    this.fold = fold;
    const v = this.values;
    for (let i = 0; i < v.length; i++) v[i] = 0;
    this.valueSizes.fill(0);
    this.valueMemory = SLOT_BYTES * this.keys.size;
    this.valueBytes = 0;
    this.adds = 0;
    this.live = 0;
    this.liveMemory = 0;
  }

  /** Approximate memory held, in bytes (keys without a value included). */
  get bytes(): number {
    return this.keys.bytes + this.valueMemory;
  }

  /**
   * The bytes a new table would account after the same `add` calls as this
   * one since its {@link reset}: keys without a value are left out. The
   * collector spills on this, so that a task spills at the same points, and
   * folds the same values together, whatever table it was given.
   */
  get liveBytes(): number {
    return this.liveMemory;
  }

  /** Encoded key + value bytes of all pairs passed to `add` (Hadoop's MAP_OUTPUT_BYTES). */
  get emittedBytes(): number {
    let sum = this.valueBytes;
    const m = this.keys.meta;
    const v = this.values;
    for (let id = 0; id < this.keys.size; id++)
      sum += (v[2 * id + 1] as number) * (m[3 * id + 2] - m[3 * id + 1]);
    return sum;
  }

  /**
   * Adds one pair: folds `value` into its key's value, or inserts the key.
   * @throws TsmrError `TSMR_BAD_KEY`, `TSMR_BAD_VALUE`, `TSMR_BAD_PARTITION`;
   *   `TSMR_USER_CODE` when the fold throws, `TSMR_BAD_JOB` when it returns a promise (nothing is added then).
   */
  add(key: Key, value: unknown): void {
    // The hot path: a known string key and a number (word count).
    if (typeof value === 'number' && typeof key === 'string') {
      const id = this.keys.stringId(key);
      if (id >= 0) {
        this.addNumber(id, value);
        return;
      }
    }
    this.addSlow(key, value);
  }

  /**
   * Adds one pair whose key is the string `bytes[start, end)` decode to (as
   * latin1, or as UTF-8), looked up as bytes: the string is made only for a
   * key new to the table. Throws as {@link add}.
   */
  addText(bytes: Uint8Array, start: number, end: number, latin1: boolean, value: unknown): void {
    if (typeof value === 'number') {
      const id = this.keys.textId(bytes, start, end, latin1);
      if (id >= 0) {
        this.addNumber(id, value);
        return;
      }
    }
    this.addSlow(undefined, value, bytes, start, end, latin1);
  }

  /** Folds number `value` into the value of known key `id`. */
  private addNumber(id: number, value: number): void {
    const v = this.values;
    const n = v[2 * id + 1] as number;
    if (n === 0) {
      v[2 * id] = value;
      this.firstValue(id);
    } else {
      v[2 * id] = applyFold(this.fold, v[2 * id], value);
    }
    v[2 * id + 1] = n + 1;
    this.valueBytes += numberLength(value);
    this.adds++;
  }

  /** Adds `(key, value)`, or with `key` undefined, the text key of `bytes[start, end)` (see {@link addText}). */
  private addSlow(
    key: Key | undefined,
    value: unknown,
    bytes?: Uint8Array,
    start = 0,
    end = 0,
    latin1 = false,
  ): void {
    let size: number;
    if (typeof value === 'number') {
      size = numberLength(value);
    } else {
      const s = this.scratch;
      s.reset();
      writeValue(s, value);
      size = s.pos;
      // A snapshot: the caller may mutate what it emitted.
      if (typeof value === 'object' && value !== null) value = decodeValue(s.buf, 0, s.pos);
    }
    const keys = this.keys;
    const known = keys.size;
    const id = bytes === undefined ? keys.idOf(key as Key) : keys.textIdOf(bytes, start, end, latin1);
    if (id >= known) {
      this.values.push(0, 0);
      this.valueSizes.push(0);
      this.valueMemory += SLOT_BYTES;
    }
    const n = this.values[2 * id + 1] as number;
    if (n === 0) {
      this.values[2 * id] = value;
      this.firstValue(id);
    } else {
      this.values[2 * id] = applyFold(this.fold, this.values[2 * id], value);
    }
    this.values[2 * id + 1] = n + 1;
    this.valueBytes += size;
    this.adds++;
    if (typeof value !== 'number') {
      // Strings are measured; other values add what was folded into them.
      const folded = this.values[2 * id];
      const estimate =
        typeof folded === 'number'
          ? 0
          : typeof folded === 'string'
            ? folded.length + 16
            : this.valueSizes[id] + size;
      this.valueMemory += estimate - this.valueSizes[id];
      this.liveMemory += estimate - this.valueSizes[id];
      this.valueSizes[id] = estimate;
    }
  }

  /** Counts key `id`, which just got its first value since the last reset, as live. */
  private firstValue(id: number): void {
    this.live++;
    this.liveMemory += this.keys.entryBytes[id] + SLOT_BYTES;
  }

  /** The keys in (partition, key) order (`KeyIndex.sortedKeys`; valid until the next call). */
  sortedKeys(sorter: KeySorter): SortedKeys {
    return this.keys.sortedKeys(sorter);
  }

  /**
   * Appends each key that has a value and its value to `writer`, in the order
   * of `sorted` ({@link sortedKeys}), reading the keys from its layout.
   * @returns the number of records written ({@link size}).
   * @throws TsmrError `TSMR_BAD_VALUE` when a folded value cannot be encoded.
   */
  writeTo(writer: RunWriter, sorted: SortedKeys): number {
    const { ids, starts, bytes, partitionStarts } = sorted;
    const w = this.scratch;
    const v = this.values;
    let written = 0;
    for (let p = 0; p + 1 < partitionStarts.length; p++) {
      for (let j = partitionStarts[p]; j < partitionStarts[p + 1]; j++) {
        const id = ids[j];
        if (v[2 * id + 1] === 0) continue;
        w.reset();
        writeValue(w, v[2 * id]);
        writer.append(p, bytes, starts[j], starts[j + 1], w.buf, 0, w.pos);
        written++;
      }
    }
    return written;
  }
}

/**
 * Keeps the fold table of a finished map task for the next map task of the
 * same thread, values cleared ({@link FoldTable.reset}), so that keys seen
 * before (a corpus's vocabulary, which the splits of one input mostly share)
 * are not hashed into a new table, encoded, partitioned and sorted again.
 * Keys depend only on the key bytes, the number of partitions and the
 * partitioner, so any task with the same number of partitions and the default
 * partitioner may take the table. (A user's partition function is a fresh
 * closure per task; tables made with one are not passed on.)
 *
 * Holds at most one table. The caller decides what is worth keeping
 * (`MapOutputCollector` keeps a table that holds less than its sort buffer).
 * A kept table stays in memory while the thread is idle or runs other tasks:
 * at most one sort buffer's worth per thread (`runTask` drops it when the
 * thread starts a reduce task).
 */
export class FoldTableCache {
  private kept: FoldTable | undefined;

  /**
   * Takes the kept table, reset to fold with `fold`, if it was made for
   * `numPartitions` partitions and the default partitioner.
   */
  take(numPartitions: number, fold: Fold): FoldTable | undefined {
    const table = this.kept;
    this.kept = undefined;
    if (table === undefined || !table.reusableFor(numPartitions)) return undefined;
    table.reset(fold);
    return table;
  }

  /** Keeps `table` for the next {@link take}, in place of any other. */
  keep(table: FoldTable): void {
    this.kept = table;
  }

  /** Drops the kept table. */
  clear(): void {
    this.kept = undefined;
  }
}
