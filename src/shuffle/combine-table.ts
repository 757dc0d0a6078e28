/**
 * The map-side hash table of jobs with a combiner (Spark's map-side
 * aggregation in `ExternalSorter` over a `PartitionedAppendOnlyMap`, with
 * Hadoop's combiner contract: values are combined in batches, not one by one).
 *
 * Each emit costs one `Map` lookup (key → entry id) and two appends to a
 * value log (the entry id and the value): less than a plain `Map` count loop
 * (`get` + `set`), and no per-key arrays, whose scattered appends would miss
 * the cache. When the table is full, the collector groups the log by entry id
 * (a counting sort), then runs the combiner over the groups (compaction) or
 * spills them, sorted by (partition, key). Word count (few distinct keys, many
 * values) rarely spills.
 *
 * Keys live in three separate `Map`s, so that key spaces never mix: strings
 * keyed by the string itself, numbers by the number (`Map` treats `-0` as `0`
 * and `NaN` as one key, as the key codec does), every other key by the latin1
 * string of its encoding. Each distinct key is encoded once, into a key arena,
 * and partitioned once. A string key is stored as a fresh copy decoded from
 * its encoding: a key sliced out of a large input line or chunk would
 * otherwise keep that whole line alive. (A string with lone surrogates encodes
 * like its U+FFFD form, and is stored as another name for it.)
 *
 * Values that cannot change or hold memory (numbers, booleans, null,
 * undefined, short strings) are kept as they are; others (objects, bigints,
 * long strings) are encoded at once into a value arena, which snapshots them
 * against later mutation and makes their size exact.
 *
 * Memory accounting (`bytes`) is approximate: per distinct key a fixed
 * overhead plus its key bytes, per value a slot plus its payload.
 */
import type { Key, Values } from '../api/types.ts';
import { ByteWriter } from './byte-writer.ts';
import type { Group } from './grouper.ts';
import { KeyTag, decodeKey, keyRangeEquals, writeKey } from './key-codec.ts';
import { hashPartitionRange } from './partitioner.ts';
import type { RunWriter } from './run-writer.ts';
import type { CheckedPartition } from './sort-buffer.ts';
import type { KeySorter } from './sort-index.ts';
import { decodeValue, writeValue } from './value-codec.ts';

/** Accounted bytes per distinct key, besides its key bytes (Map entry, arrays, metadata). */
export const ENTRY_BYTES = 160;
/**
 * Accounted bytes per value: its log slot (8), its entry id (4), growth slack,
 * and its slot in the grouped copy made at compaction (8).
 */
const SLOT_BYTES = 24;
/** Strings at least this long may be slices of a larger string (V8's `SlicedString::kMinLength`). */
const SLICE_MIN = 13;

/** A value stored encoded in the value arena. */
class EncodedValue {
  readonly start: number;
  readonly end: number;
  constructor(start: number, end: number) {
    this.start = start;
    this.end = end;
  }
}

/** A group of the table, with the partition of its key. */
export interface TableGroup extends Group {
  readonly partition: number;
}

export class CombineTable {
  /** Distinct keys. */
  size = 0;
  /** Values held. */
  valueCount = 0;
  /** Approximate memory held, in bytes. */
  bytes = 0;
  private readonly numPartitions: number;
  private readonly partition: CheckedPartition | undefined;
  // Key → entry id, one map per key space.
  private readonly strings = new Map<string, number>();
  private readonly numbers = new Map<number, number>();
  private readonly others = new Map<string, number>();
  private readonly keyArena = new ByteWriter(64 * 1024);
  private readonly valueArena = new ByteWriter(1024);
  private readonly scratch = new ByteWriter(256);
  /** Per entry id: partition, key start, key end (in the key arena). */
  private meta: Uint32Array = new Uint32Array(3 * 256);
  /** Per entry id: the key, for string and number keys (others are decoded when asked for). */
  private readonly keyObjects: Array<Key | undefined> = [];
  /** The value log, in arrival order: entry id and value of each. */
  private logIds: Int32Array = new Int32Array(1024);
  private readonly logValues: unknown[] = [];
  /** Log entries below this came from {@link addCombined}, not from emits. */
  private combinedCount = 0;
  private valueBytes = 0;
  /** Key bytes of the emits in `log[combinedCount, keyBytesCountedTo)`. */
  private emittedKeyBytes = 0;
  private keyBytesCountedTo = 0;
  /** Values grouped by entry id (`grouped[starts[id], starts[id + 1])`), built on demand. */
  private grouped: unknown[] | undefined;
  private starts: Uint32Array | undefined;

  /** @param partition a checked partition function; `undefined` for the default hash partitioner. */
  constructor(numPartitions: number, partition: CheckedPartition | undefined) {
    this.numPartitions = numPartitions;
    this.partition = partition;
  }

  /** Encoded key + value bytes of all pairs passed to `add` (Hadoop's MAP_OUTPUT_BYTES). */
  get emittedBytes(): number {
    const m = this.meta;
    const ids = this.logIds;
    let sum = this.emittedKeyBytes;
    for (let i = Math.max(this.keyBytesCountedTo, this.combinedCount); i < this.valueCount; i++) {
      const id = ids[i];
      sum += m[3 * id + 2] - m[3 * id + 1];
    }
    this.emittedKeyBytes = sum;
    this.keyBytesCountedTo = this.valueCount;
    return sum + this.valueBytes;
  }

  /**
   * Adds one pair: one `Map` lookup and two appends to the value log.
   * @throws TsmrError `TSMR_BAD_KEY`, `TSMR_BAD_VALUE`, `TSMR_BAD_PARTITION` (nothing is added then).
   */
  add(key: Key, value: unknown): void {
    let stored: unknown = value;
    let cost: number;
    let valueBytes: number;
    switch (typeof value) {
      case 'number':
        cost = (value | 0) === value ? SLOT_BYTES : SLOT_BYTES + 16;
        valueBytes = numberLength(value);
        break;
      case 'boolean':
      case 'undefined':
        cost = SLOT_BYTES;
        valueBytes = 1;
        break;
      case 'string':
        if (value.length < SLICE_MIN && value.isWellFormed()) {
          cost = SLOT_BYTES + 24 + value.length;
          valueBytes = 1 + utf8Length(value);
          break;
        }
        stored = this.encodeValue(value);
        valueBytes = (stored as EncodedValue).end - (stored as EncodedValue).start;
        cost = SLOT_BYTES + 40 + valueBytes;
        break;
      default:
        if (value === null) {
          cost = SLOT_BYTES;
          valueBytes = 1;
          break;
        }
        stored = this.encodeValue(value);
        valueBytes = (stored as EncodedValue).end - (stored as EncodedValue).start;
        cost = SLOT_BYTES + 40 + valueBytes;
    }
    let id: number | undefined;
    if (typeof key === 'string') {
      id = this.strings.get(key);
      if (id === undefined) id = this.insertOrUndo(key, stored);
    } else if (typeof key === 'number') {
      id = this.numbers.get(key);
      if (id === undefined) id = this.insertOrUndo(key, stored);
    } else {
      id = this.insertOrUndo(key, stored);
    }
    this.append(id, stored);
    this.bytes += cost;
    this.valueBytes += valueBytes;
  }

  /**
   * Adds a combiner's output pair. Only into a table that has had no `add`
   * yet, and in non-decreasing (partition, key) order (the combiner checks
   * that), so that entry ids come in sorted order.
   */
  addCombined(
    partition: number,
    key: Key,
    value: unknown,
    keyBuf: Buffer,
    keyStart: number,
    keyEnd: number,
    valueBuf: Buffer,
    valueStart: number,
    valueEnd: number,
  ): void {
    const m = this.meta;
    let id = this.size - 1;
    if (
      id < 0 ||
      m[3 * id] !== partition ||
      !keyRangeEquals(keyBuf, keyStart, keyEnd, this.keyArena.buf, m[3 * id + 1], m[3 * id + 2])
    ) {
      const w = this.keyArena;
      const start = w.pos;
      w.bytes(keyBuf, keyStart, keyEnd);
      if (typeof key === 'string') {
        const object =
          key.length >= SLICE_MIN || !key.isWellFormed() ? w.buf.toString('utf8', start + 1, w.pos) : key;
        id = this.newEntry(partition, start, w.pos, object);
        this.strings.set(object, id);
      } else if (typeof key === 'number') {
        id = this.newEntry(partition, start, w.pos, key === 0 ? 0 : key);
        this.numbers.set(key, id);
      } else {
        id = this.newEntry(partition, start, w.pos, undefined);
        const name = w.buf.toString('latin1', start, w.pos);
        this.others.set(name, id);
        this.bytes += name.length + 24;
      }
    }
    let stored: unknown = value;
    let cost = SLOT_BYTES + 16;
    const t = typeof value;
    const raw =
      t === 'number' ||
      t === 'boolean' ||
      t === 'undefined' ||
      value === null ||
      (t === 'string' && (value as string).length < SLICE_MIN && (value as string).isWellFormed());
    if (!raw) {
      const va = this.valueArena;
      const start = va.pos;
      va.bytes(valueBuf, valueStart, valueEnd);
      stored = new EncodedValue(start, va.pos);
      cost = SLOT_BYTES + 40 + valueEnd - valueStart;
    } else if (t === 'string') {
      cost = SLOT_BYTES + 24 + (value as string).length;
    }
    this.append(id, stored);
    this.combinedCount = this.valueCount;
    this.bytes += cost;
  }

  /** Entry ids in (partition, key) order (a view valid until the sorter's next call). */
  sortedIds(sorter: KeySorter): Uint32Array {
    return sorter.sort(this.size, this.meta, 3, this.keyArena.buf, this.numPartitions);
  }

  /**
   * The groups of `ids` (or of all entries, in id order), in that order; each
   * yields its key's values once, in arrival order.
   */
  *groups(ids: Uint32Array | undefined): Generator<TableGroup> {
    this.groupValues();
    const n = ids === undefined ? this.size : ids.length;
    const m = this.meta;
    const keys = this.keyArena.buf;
    const arena = this.valueArena.buf;
    const grouped = this.grouped as unknown[];
    const starts = this.starts as Uint32Array;
    for (let j = 0; j < n; j++) {
      const id = ids === undefined ? j : ids[j];
      const i = 3 * id;
      yield new ArrayGroup(
        m[i],
        keys.subarray(m[i + 1], m[i + 2]),
        this.keyObjects[id],
        grouped,
        starts[id],
        starts[id + 1],
        arena,
      );
    }
  }

  /**
   * Appends every value of every key to `writer`, keys in the order of `ids`
   * (or id order, when the table was filled by {@link addCombined}).
   * @returns the number of records written.
   */
  writeTo(writer: RunWriter, ids: Uint32Array | undefined): number {
    this.groupValues();
    const n = ids === undefined ? this.size : ids.length;
    const keys = this.keyArena.buf;
    const va = this.valueArena.buf;
    const m = this.meta;
    const w = this.scratch;
    const grouped = this.grouped as unknown[];
    const starts = this.starts as Uint32Array;
    for (let j = 0; j < n; j++) {
      const id = ids === undefined ? j : ids[j];
      const p = m[3 * id];
      const ks = m[3 * id + 1];
      const ke = m[3 * id + 2];
      for (let k = starts[id]; k < starts[id + 1]; k++) {
        const v = grouped[k];
        if (v instanceof EncodedValue) {
          writer.append(p, keys, ks, ke, va, v.start, v.end);
        } else {
          w.reset();
          writeValue(w, v);
          writer.append(p, keys, ks, ke, w.buf, 0, w.pos);
        }
      }
    }
    return this.valueCount;
  }

  private append(id: number, stored: unknown): void {
    const n = this.valueCount;
    if (n === this.logIds.length) {
      const bigger = new Int32Array(2 * n);
      bigger.set(this.logIds);
      this.logIds = bigger;
    }
    this.logIds[n] = id;
    this.logValues.push(stored);
    this.valueCount = n + 1;
    this.grouped = undefined;
  }

  /** Groups the value log by entry id (a counting sort: sequential reads, one scatter). */
  private groupValues(): void {
    if (this.grouped !== undefined) return;
    const n = this.valueCount;
    const ids = this.logIds;
    const starts = new Uint32Array(this.size + 1);
    for (let i = 0; i < n; i++) starts[ids[i] + 1]++;
    for (let id = 0; id < this.size; id++) starts[id + 1] += starts[id];
    const next = starts.slice(0, this.size);
    const grouped = new Array<unknown>(n);
    const values = this.logValues;
    for (let i = 0; i < n; i++) grouped[next[ids[i]]++] = values[i];
    this.grouped = grouped;
    this.starts = starts;
  }

  private encodeValue(value: unknown): EncodedValue {
    const va = this.valueArena;
    const start = va.pos;
    writeValue(va, value);
    return new EncodedValue(start, va.pos);
  }

  /** Inserts a new key (or finds a non-string, non-number one); undoes the value's encoding on error. */
  private insertOrUndo(key: Key, stored: unknown): number {
    try {
      return this.insert(key);
    } catch (error) {
      if (stored instanceof EncodedValue) this.valueArena.pos = stored.start;
      throw error;
    }
  }

  private insert(key: Key): number {
    if (typeof key === 'string') {
      const w = this.keyArena;
      const start = w.pos;
      w.byte(KeyTag.STRING);
      w.string(key);
      let object = key;
      if (key.length >= SLICE_MIN || !key.isWellFormed()) {
        object = w.buf.toString('utf8', start + 1, w.pos);
        if (object !== key) {
          // Lone surrogates: `key` is another name of `object`.
          const existing = this.strings.get(object);
          if (existing !== undefined) {
            w.pos = start;
            this.strings.set(key, existing);
            this.bytes += key.length * 2 + 48;
            return existing;
          }
        }
      }
      const id = this.newEntry(this.partitionOf(start, object), start, w.pos, object);
      this.strings.set(object, id);
      if (object !== key) {
        this.strings.set(key, id);
        this.bytes += key.length * 2 + 48;
      }
      this.bytes += object.length;
      return id;
    }
    if (typeof key === 'number') {
      const w = this.keyArena;
      const start = w.pos;
      writeKey(w, key);
      const object = key === 0 ? 0 : key;
      const id = this.newEntry(this.partitionOf(start, object), start, w.pos, object);
      this.numbers.set(object, id);
      return id;
    }
    const s = this.scratch;
    s.reset();
    writeKey(s, key);
    const name = s.buf.toString('latin1', 0, s.pos);
    const found = this.others.get(name);
    if (found !== undefined) return found;
    const w = this.keyArena;
    const start = w.pos;
    w.bytes(s.buf, 0, s.pos);
    const id = this.newEntry(this.partitionOf(start, key), start, w.pos, undefined);
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

  private newEntry(partition: number, start: number, end: number, object: Key | undefined): number {
    const id = this.size;
    if (3 * id === this.meta.length) {
      const bigger = new Uint32Array(this.meta.length * 2);
      bigger.set(this.meta);
      this.meta = bigger;
    }
    this.meta[3 * id] = partition;
    this.meta[3 * id + 1] = start;
    this.meta[3 * id + 2] = end;
    this.keyObjects.push(object);
    this.size = id + 1;
    this.bytes += ENTRY_BYTES + (end - start);
    return id;
  }
}

/** A group of a {@link CombineTable} and the iterator of its values in one object. */
class ArrayGroup implements TableGroup, Values<unknown>, Iterator<unknown> {
  readonly partition: number;
  readonly encodedKey: Buffer;
  private object: Key | undefined;
  private readonly list: unknown[];
  private i: number;
  private readonly end: number;
  private readonly arena: Buffer;
  private closed = false;

  /** The values are `list[start, end)`. */
  constructor(
    partition: number,
    encodedKey: Buffer,
    key: Key | undefined,
    list: unknown[],
    start: number,
    end: number,
    arena: Buffer,
  ) {
    this.partition = partition;
    this.encodedKey = encodedKey;
    this.object = key;
    this.list = list;
    this.i = start;
    this.end = end;
    this.arena = arena;
  }

  get key(): Key {
    if (this.object === undefined) this.object = decodeKey(this.encodedKey);
    return this.object;
  }

  get values(): Values<unknown> {
    return this;
  }

  [Symbol.iterator](): Iterator<unknown> {
    return this;
  }

  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    return {
      next: () => Promise.resolve(this.next()),
      return: () => Promise.resolve(this.return()),
    };
  }

  next(): IteratorResult<unknown> {
    if (this.closed || this.i >= this.end) {
      this.closed = true;
      return { done: true, value: undefined };
    }
    const v = this.list[this.i++];
    return { done: false, value: v instanceof EncodedValue ? decodeValue(this.arena, v.start, v.end) : v };
  }

  return(): IteratorResult<unknown> {
    this.closed = true;
    return { done: true, value: undefined };
  }
}

/** Encoded length of a number value (see value-codec). */
function numberLength(v: number): number {
  if (v >= 0 && v < 0x1_0000_0000 && Number.isInteger(v) && !Object.is(v, -0)) {
    return v < 0x100 ? 2 : v < 0x1_0000 ? 3 : v < 0x100_0000 ? 4 : 5;
  }
  return 9;
}

/** UTF-8 length of a well-formed string. */
function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // 2 bytes below U+0800, 4 per surrogate pair (2 units), else 3.
    if (c >= 0x80) n += c < 0x800 || (c >= 0xd800 && c < 0xe000) ? 1 : 2;
  }
  return n;
}
