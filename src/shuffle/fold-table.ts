/**
 * The map-side hash table of jobs with `combineValues` (Spark's `reduceByKey`:
 * a binary fold `(a, b) => c`, applied as values are emitted).
 *
 * Each emit costs one `Map` lookup (key → entry id), then either a fold of the
 * value into the entry's slot (`values[id] = fold(values[id], value)`, a plain
 * JS array: numbers stay unboxed small integers or heap numbers, no log) or,
 * for a new key, an insert: the key is encoded once into a key arena and
 * partitioned once. Memory holds one value per distinct key, so word count
 * spills only when the vocabulary does not fit.
 *
 * Keys live in three `Map`s, as in the combine table (`combine-table.ts`,
 * whose helpers are shared): strings keyed by the string, numbers by the
 * number, other keys by the latin1 string of their encoding.
 *
 * Values: a number is kept as it is. Any other value is encoded at emit (which
 * checks it can be written, gives its `MAP_OUTPUT_BYTES` and its size
 * estimate); objects are passed to the fold as a decoded copy, so that the
 * caller may mutate what it emitted.
 *
 * Memory accounting (`bytes`) is approximate: per distinct key
 * {@link ENTRY_BYTES} + 16 plus its key bytes; per non-number value the
 * encoded size of what was folded into it (strings: their current length),
 * an over-estimate for folds that shrink (max, sum of objects…).
 */
import type { Key } from '../api/types.ts';
import { ErrorCode, TsmrError } from '../errors.ts';
import { ByteWriter } from './byte-writer.ts';
import { ENTRY_BYTES, numberLength, ownedKeyString } from './combine-table.ts';
import { KeyTag, writeKey } from './key-codec.ts';
import { hashPartitionRange } from './partitioner.ts';
import type { RunWriter } from './run-writer.ts';
import type { CheckedPartition } from './sort-buffer.ts';
import type { KeySorter } from './sort-index.ts';
import { decodeValue, writeValue } from './value-codec.ts';

/** The job's `combineValues`: folds two values of one key into one. */
export type Fold = (a: unknown, b: unknown) => unknown;

/** Accounted bytes per distinct key besides {@link ENTRY_BYTES} and the key: value slot and emit count. */
const SLOT_BYTES = 16;

export class FoldTable {
  /** Distinct keys. */
  size = 0;
  /** Pairs added (emits). */
  adds = 0;
  /** Approximate memory held, in bytes. */
  bytes = 0;
  private readonly numPartitions: number;
  private readonly partition: CheckedPartition | undefined;
  private readonly fold: Fold;
  private readonly strings = new Map<string, number>();
  private readonly numbers = new Map<number, number>();
  private readonly others = new Map<string, number>();
  private readonly keyArena = new ByteWriter(64 * 1024);
  private readonly scratch = new ByteWriter(256);
  /** Per entry id: partition, key start, key end (in the key arena). */
  private meta = new Uint32Array(3 * 256);
  /**
   * Per entry id: the folded value at `2·id` and the emits of its key (for
   * `MAP_OUTPUT_BYTES`) at `2·id + 1`: side by side, one cache line per emit.
   */
  private readonly values: unknown[] = [];
  /** Per entry id: the size estimate of a non-number value (0 for numbers). */
  private readonly valueSizes: number[] = [];
  /** Encoded bytes of the values of all emits. */
  private valueBytes = 0;

  /** @param partition a checked partition function; `undefined` for the default hash partitioner. */
  constructor(numPartitions: number, partition: CheckedPartition | undefined, fold: Fold) {
    this.numPartitions = numPartitions;
    this.partition = partition;
    this.fold = fold;
  }

  /** Encoded key + value bytes of all pairs passed to `add` (Hadoop's MAP_OUTPUT_BYTES). */
  get emittedBytes(): number {
    let sum = this.valueBytes;
    const m = this.meta;
    const v = this.values;
    for (let id = 0; id < this.size; id++) sum += (v[2 * id + 1] as number) * (m[3 * id + 2] - m[3 * id + 1]);
    return sum;
  }

  /**
   * Adds one pair: folds `value` into its key's value, or inserts the key.
   * @throws TsmrError `TSMR_BAD_KEY`, `TSMR_BAD_VALUE`, `TSMR_BAD_PARTITION`;
   *   `TSMR_USER_CODE` when the fold throws (nothing is added then).
   */
  add(key: Key, value: unknown): void {
    // The hot path: a known string key and a number (word count).
    if (typeof value === 'number' && typeof key === 'string') {
      const id = this.strings.get(key);
      if (id !== undefined) {
        const v = this.values;
        v[2 * id] = this.apply(v[2 * id], value);
        (v[2 * id + 1] as number)++;
        this.valueBytes += numberLength(value);
        this.adds++;
        return;
      }
    }
    this.addSlow(key, value);
  }

  private addSlow(key: Key, value: unknown): void {
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
    let id: number | undefined;
    if (typeof key === 'string') id = this.strings.get(key);
    else if (typeof key === 'number') id = this.numbers.get(key);
    if (id === undefined) id = this.insert(key, value);
    else this.values[2 * id] = this.apply(this.values[2 * id], value);
    (this.values[2 * id + 1] as number)++;
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
      this.bytes += estimate - this.valueSizes[id];
      this.valueSizes[id] = estimate;
    }
  }

  /** `fold(a, b)`, its errors as `TSMR_USER_CODE`. */
  private apply(a: unknown, b: unknown): unknown {
    try {
      return this.fold(a, b);
    } catch (cause) {
      throw new TsmrError(
        ErrorCode.USER_CODE,
        `combineValues() threw: ${(cause as Error)?.message ?? String(cause)}`,
        { cause },
      );
    }
  }

  /** Entry ids in (partition, key) order (a view valid until the sorter's next call). */
  sortedIds(sorter: KeySorter): Uint32Array {
    return sorter.sort(this.size, this.meta, 3, this.keyArena.buf, this.numPartitions);
  }

  /**
   * Appends each key and its value to `writer`, in the order of `ids`.
   * @returns the number of records written (`ids.length`).
   * @throws TsmrError `TSMR_BAD_VALUE` when a folded value cannot be encoded.
   */
  writeTo(writer: RunWriter, ids: Uint32Array): number {
    const keys = this.keyArena.buf;
    const m = this.meta;
    const w = this.scratch;
    for (let j = 0; j < ids.length; j++) {
      const id = ids[j];
      w.reset();
      writeValue(w, this.values[2 * id]);
      writer.append(m[3 * id], keys, m[3 * id + 1], m[3 * id + 2], w.buf, 0, w.pos);
    }
    return ids.length;
  }

  /** Inserts a new key with its first value; returns its entry id. */
  private insert(key: Key, value: unknown): number {
    const w = this.keyArena;
    const start = w.pos;
    if (typeof key === 'string') {
      w.byte(KeyTag.STRING);
      w.string(key);
      const object = ownedKeyString(key, w.buf, start, w.pos);
      if (object !== key) {
        // Lone surrogates: `key` is another name of `object`.
        const existing = this.strings.get(object);
        if (existing !== undefined) {
          w.pos = start;
          this.strings.set(key, existing);
          this.bytes += key.length * 2 + 48;
          this.values[2 * existing] = this.apply(this.values[2 * existing], value);
          return existing;
        }
      }
      const id = this.newEntry(this.partitionOf(start, object), start, value);
      this.strings.set(object, id);
      if (object !== key) {
        this.strings.set(key, id);
        this.bytes += key.length * 2 + 48;
      }
      this.bytes += object.length;
      return id;
    }
    if (typeof key === 'number') {
      writeKey(w, key);
      const id = this.newEntry(this.partitionOf(start, key), start, value);
      this.numbers.set(key, id);
      return id;
    }
    const s = this.scratch;
    s.reset();
    writeKey(s, key);
    const name = s.buf.toString('latin1', 0, s.pos);
    const found = this.others.get(name);
    if (found !== undefined) {
      this.values[2 * found] = this.apply(this.values[2 * found], value);
      return found;
    }
    w.bytes(s.buf, 0, s.pos);
    const id = this.newEntry(this.partitionOf(start, key), start, value);
    this.others.set(name, id);
    this.bytes += name.length + 24;
    return id;
  }

  /** Partition of the key just written at `keyArena[start, pos)`; undoes the write on error. */
  private partitionOf(start: number, key: Key): number {
    if (this.numPartitions === 1) return 0;
    const w = this.keyArena;
    if (this.partition === undefined) return hashPartitionRange(w.buf, start, w.pos, this.numPartitions);
    try {
      return this.partition(w.buf.subarray(start, w.pos), key);
    } catch (error) {
      w.pos = start;
      throw error;
    }
  }

  private newEntry(partition: number, start: number, value: unknown): number {
    const id = this.size;
    const end = this.keyArena.pos;
    if (3 * id === this.meta.length) {
      const bigger = new Uint32Array(this.meta.length * 2);
      bigger.set(this.meta);
      this.meta = bigger;
    }
    this.meta[3 * id] = partition;
    this.meta[3 * id + 1] = start;
    this.meta[3 * id + 2] = end;
    this.values.push(value, 0);
    this.valueSizes.push(0);
    this.size = id + 1;
    this.bytes += ENTRY_BYTES + SLOT_BYTES + (end - start);
    return id;
  }
}
