/**
 * The map-side hash table of jobs with a combiner (Spark's map-side
 * aggregation in `ExternalSorter` over a `PartitionedAppendOnlyMap`, with
 * Hadoop's combiner contract: values are combined in batches, not one by one).
 *
 * Each emit costs one `Map` lookup (key → entry id) and appends to a value
 * log held in typed arrays: less than a plain `Map` count loop (`get` +
 * `set`), no per-key arrays (whose scattered appends miss the cache) and no
 * per-value JS objects (which the GC would trace and keep around). When the
 * table is full, the collector groups the log by entry id (a counting sort),
 * then runs the combiner over the groups (compaction) or spills them, sorted
 * by (partition, key). Word count (few distinct keys, many values) rarely
 * spills.
 *
 * Keys live in a {@link KeyIndex} (`key-index.ts`, shared with the fold
 * table): each distinct key is encoded once, into a key arena, and
 * partitioned once.
 *
 * Values: a number is stored as it is, in a `Float64Array`; any other value
 * is encoded at once into a value arena (which also snapshots it against later
 * mutation), and the log holds its offset and length.
 *
 * Memory accounting (`bytes`) is approximate: per distinct key a fixed
 * overhead plus its key bytes, per value its log slots plus its encoding.
 */
import type { Key } from '../api/types.ts';
import { ByteWriter } from './byte-writer.ts';
import { NOT_DECODED } from './grouper.ts';
import type { RangedGroup } from './grouper.ts';
import { decodeKey } from './key-codec.ts';
import { KeyIndex } from './key-index.ts';
import type { RunWriter } from './run-writer.ts';
import type { CheckedPartition } from './sort-buffer.ts';
import type { KeySorter } from './sort-index.ts';
import { decodeValue, writeValue } from './value-codec.ts';
import { ValuesIterator } from './values-iterator.ts';

/**
 * Accounted bytes per value: its payload (8), entry id (4) and kind (1), its
 * grouped copy made at compaction (9), all with 1.5× growth slack.
 */
const SLOT_BYTES = 34;

// Kinds of log entries. The payload is the number itself, or where the encoded value lies.
const NUMBER = 0;
/** Encoded in the value arena; payload = start + length · 2^32 (both below 2^21 · 2^32 ≤ 2^53). */
const ENCODED = 1;
/** Encoded, too large to pack: payload = index in `large` of [start, end]. */
const ENCODED_LARGE = 2;
const PACK = 2 ** 32;
const MAX_PACKED_LENGTH = 2 ** 21;

/**
 * Typed arrays handed from one table to the next, so that a collector
 * allocates (and page-faults) its value log once, not at every compaction.
 */
export interface LogPool {
  ids?: Int32Array;
  payload?: Float64Array;
  kinds?: Uint8Array;
  groupedPayload?: Float64Array;
  groupedKinds?: Uint8Array;
}

/** A group of the table, with the partition of its key. */
export interface TableGroup extends RangedGroup {
  readonly partition: number;
}

export class CombineTable {
  /** Values held. */
  valueCount = 0;
  private readonly pool: LogPool;
  /** Key → entry id; keeps the key of string and number keys (others are decoded when asked for). */
  private readonly keys: KeyIndex;
  /** Approximate memory held by values, in bytes. */
  private valueMemory = 0;
  private readonly valueArena = new ByteWriter(1024);
  private readonly scratch = new ByteWriter(256);
  // The value log, in arrival order: entry id, kind (created at the first non-number) and payload.
  private logIds: Int32Array = new Int32Array(0);
  private logPayload: Float64Array = new Float64Array(0);
  private logKinds: Uint8Array | undefined;
  /** [start, end] of values too large to pack. */
  private readonly large: number[] = [];
  /** Log entries below this came from {@link addCombined}, not from emits. */
  private combinedCount = 0;
  private valueBytes = 0;
  /** Key bytes of the emits in `log[combinedCount, keyBytesCountedTo)`. */
  private emittedKeyBytes = 0;
  private keyBytesCountedTo = 0;
  /** The log grouped by entry id (`[starts[id], starts[id + 1])`), built on demand. */
  private groupedPayload: Float64Array | undefined;
  private groupedKinds: Uint8Array | undefined;
  private starts: Uint32Array = new Uint32Array(1);
  /** `valueCount` when the grouped copy was built. */
  private groupedCount = -1;

  /**
   * @param partition a checked partition function; `undefined` for the default hash partitioner.
   * @param pool where to take log arrays from (see {@link release}).
   */
  constructor(numPartitions: number, partition: CheckedPartition | undefined, pool: LogPool = {}) {
    this.keys = new KeyIndex(numPartitions, partition, true);
    this.pool = pool;
  }

  /** Distinct keys. */
  get size(): number {
    return this.keys.size;
  }

  /** Approximate memory held, in bytes. */
  get bytes(): number {
    return this.keys.bytes + this.valueMemory;
  }

  /** Encoded key + value bytes of all pairs passed to `add` (Hadoop's MAP_OUTPUT_BYTES). */
  get emittedBytes(): number {
    this.countEmittedKeyBytes();
    return this.emittedKeyBytes + this.valueBytes;
  }

  /**
   * Adds one pair.
   * @throws TsmrError `TSMR_BAD_KEY`, `TSMR_BAD_VALUE`, `TSMR_BAD_PARTITION` (nothing is added then).
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

  /** Logs number `value` for known key `id`. */
  private addNumber(id: number, value: number): void {
    const n = this.valueCount;
    if (n === this.logIds.length) this.growLog();
    this.logIds[n] = id;
    this.logPayload[n] = value;
    if (this.logKinds !== undefined) this.logKinds[n] = NUMBER;
    this.valueCount = n + 1;
    this.valueMemory += SLOT_BYTES;
    this.valueBytes += numberLength(value);
  }

  /** Adds `(key, value)`, or with `key` undefined, the text key of `bytes[textStart, textEnd)` (see {@link addText}). */
  private addSlow(
    key: Key | undefined,
    value: unknown,
    bytes?: Uint8Array,
    textStart = 0,
    textEnd = 0,
    latin1 = false,
  ): void {
    let start = -1;
    let end = -1;
    if (typeof value === 'number') {
      this.valueBytes += numberLength(value);
    } else {
      start = this.valueArena.pos;
      writeValue(this.valueArena, value);
      end = this.valueArena.pos;
    }
    let id: number;
    try {
      id =
        bytes === undefined
          ? this.keys.idOf(key as Key)
          : this.keys.textIdOf(bytes, textStart, textEnd, latin1);
    } catch (error) {
      if (start >= 0) this.valueArena.pos = start;
      else this.valueBytes -= numberLength(value as number);
      throw error;
    }
    if (start < 0) {
      this.append(id, NUMBER, value as number);
      this.valueMemory += SLOT_BYTES;
    } else {
      this.appendEncoded(id, start, end);
      this.valueBytes += end - start;
      this.valueMemory += SLOT_BYTES + end - start;
    }
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
    const id = this.keys.idOfSorted(partition, key, keyBuf, keyStart, keyEnd);
    if (typeof value === 'number') {
      this.append(id, NUMBER, value);
      this.valueMemory += SLOT_BYTES;
    } else {
      const va = this.valueArena;
      const start = va.pos;
      va.bytes(valueBuf, valueStart, valueEnd);
      this.appendEncoded(id, start, va.pos);
      this.valueMemory += SLOT_BYTES + valueEnd - valueStart;
    }
    this.combinedCount = this.valueCount;
  }

  /** Entry ids in (partition, key) order (`KeyIndex.sortedIds`; valid until the next call). */
  sortedIds(sorter: KeySorter): Uint32Array {
    return this.keys.sortedIds(sorter);
  }

  /**
   * The groups of `ids` (or of all entries, in id order), in that order; each
   * yields its key's values once, in arrival order.
   */
  groups(ids: Uint32Array | undefined): Iterable<TableGroup> {
    this.groupValues();
    return new TableGroups(this, ids);
  }

  /**
   * Appends every value of every key to `writer`, keys in the order of `ids`
   * (or id order, when the table was filled by {@link addCombined}).
   * @returns the number of records written.
   */
  writeTo(writer: RunWriter, ids: Uint32Array | undefined): number {
    this.groupValues();
    const n = ids === undefined ? this.size : ids.length;
    const keys = this.keys.keyBuf;
    const va = this.valueArena.buf;
    const m = this.keys.meta;
    const w = this.scratch;
    const payload = this.groupedPayload as Float64Array;
    const kinds = this.groupedKinds;
    const starts = this.starts;
    for (let j = 0; j < n; j++) {
      const id = ids === undefined ? j : ids[j];
      const p = m[3 * id];
      const ks = m[3 * id + 1];
      const ke = m[3 * id + 2];
      for (let k = starts[id]; k < starts[id + 1]; k++) {
        const kind = kinds === undefined ? NUMBER : kinds[k];
        if (kind === NUMBER) {
          w.reset();
          writeValue(w, payload[k]);
          writer.append(p, keys, ks, ke, w.buf, 0, w.pos);
        } else {
          const start = this.encodedStart(kind, payload[k]);
          writer.append(p, keys, ks, ke, va, start, start + this.encodedLength(kind, payload[k]));
        }
      }
    }
    return this.valueCount;
  }

  /**
   * Gives this table's log arrays back to its pool for the next table. The
   * table must not be used afterwards (its counters stay readable).
   */
  release(): void {
    this.countEmittedKeyBytes();
    const pool = this.pool;
    if (this.logIds.length > (pool.ids?.length ?? 0)) pool.ids = this.logIds;
    if (this.logPayload.length > (pool.payload?.length ?? 0)) pool.payload = this.logPayload;
    if (this.logKinds !== undefined && this.logKinds.length > (pool.kinds?.length ?? 0))
      pool.kinds = this.logKinds;
    const gp = this.groupedPayload;
    if (gp !== undefined && gp.length > (pool.groupedPayload?.length ?? 0)) pool.groupedPayload = gp;
    const gk = this.groupedKinds;
    if (gk !== undefined && gk.length > (pool.groupedKinds?.length ?? 0)) pool.groupedKinds = gk;
    this.logIds = new Int32Array(0);
    this.logPayload = new Float64Array(0);
    this.logKinds = this.groupedPayload = this.groupedKinds = undefined;
  }

  /** @internal Value `k` of the grouped log, decoded. */
  groupedValue(k: number): unknown {
    const payload = this.groupedPayload as Float64Array;
    const kind = this.groupedKinds === undefined ? NUMBER : this.groupedKinds[k];
    if (kind === NUMBER) return payload[k];
    const start = this.encodedStart(kind, payload[k]);
    return decodeValue(this.valueArena.buf, start, start + this.encodedLength(kind, payload[k]));
  }

  /** @internal Where group `id`'s key lies and what it is. */
  groupOf(id: number): TableGroup {
    const m = this.keys.meta;
    const i = 3 * id;
    return new ArrayGroup(
      this,
      m[i],
      this.keys.keyBuf,
      m[i + 1],
      m[i + 2],
      (this.keys.keyObjects as Array<Key | undefined>)[id],
      this.starts[id],
      this.starts[id + 1],
    );
  }

  private encodedStart(kind: number, payload: number): number {
    return kind === ENCODED ? payload % PACK : this.large[2 * payload];
  }

  private encodedLength(kind: number, payload: number): number {
    return kind === ENCODED
      ? Math.floor(payload / PACK)
      : this.large[2 * payload + 1] - this.large[2 * payload];
  }

  private countEmittedKeyBytes(): void {
    const m = this.keys.meta;
    const ids = this.logIds;
    let sum = this.emittedKeyBytes;
    for (let i = Math.max(this.keyBytesCountedTo, this.combinedCount); i < this.valueCount; i++) {
      const id = ids[i];
      sum += m[3 * id + 2] - m[3 * id + 1];
    }
    this.emittedKeyBytes = sum;
    this.keyBytesCountedTo = this.valueCount;
  }

  private append(id: number, kind: number, payload: number): void {
    const n = this.valueCount;
    if (n === this.logIds.length) this.growLog();
    this.logIds[n] = id;
    this.logPayload[n] = payload;
    if (kind !== NUMBER || this.logKinds !== undefined) {
      if (this.logKinds === undefined) this.logKinds = this.takeKinds(this.logIds.length);
      this.logKinds[n] = kind;
    }
    this.valueCount = n + 1;
  }

  private appendEncoded(id: number, start: number, end: number): void {
    const length = end - start;
    if (length < MAX_PACKED_LENGTH && end < PACK) {
      this.append(id, ENCODED, start + length * PACK);
    } else {
      this.append(id, ENCODED_LARGE, this.large.length / 2);
      this.large.push(start, end);
    }
  }

  /** A kinds array of `size`, all NUMBER below `valueCount`. */
  private takeKinds(size: number): Uint8Array {
    let kinds = this.pool.kinds;
    if (kinds !== undefined && kinds.length >= size) {
      this.pool.kinds = undefined;
      kinds.fill(NUMBER, 0, this.valueCount);
    } else {
      kinds = new Uint8Array(size);
    }
    return kinds;
  }

  private growLog(): void {
    const n = this.valueCount;
    const pool = this.pool;
    let ids = pool.ids;
    if (ids !== undefined && ids.length > n) pool.ids = undefined;
    else ids = new Int32Array(Math.max(Math.ceil(1.5 * this.logIds.length), 1024));
    ids.set(this.logIds.subarray(0, n));
    this.logIds = ids;
    let payload = pool.payload;
    if (payload !== undefined && payload.length >= ids.length) pool.payload = undefined;
    else payload = new Float64Array(ids.length);
    payload.set(this.logPayload.subarray(0, n));
    this.logPayload = payload;
    if (this.logKinds !== undefined) {
      const kinds = this.takeKinds(ids.length);
      kinds.set(this.logKinds.subarray(0, n));
      this.logKinds = kinds;
    }
  }

  /** Groups the value log by entry id (a counting sort: sequential reads, one scatter). */
  private groupValues(): void {
    const n = this.valueCount;
    if (this.groupedCount === n) return;
    const ids = this.logIds;
    const starts = new Uint32Array(this.size + 1);
    for (let i = 0; i < n; i++) starts[ids[i] + 1]++;
    for (let id = 0; id < this.size; id++) starts[id + 1] += starts[id];
    const next = starts.slice(0, this.size);
    const pool = this.pool;
    let gp = pool.groupedPayload;
    if (gp !== undefined && gp.length >= n) pool.groupedPayload = undefined;
    else gp = new Float64Array(Math.max(n, ids.length));
    const payload = this.logPayload;
    const kinds = this.logKinds;
    if (kinds === undefined) {
      for (let i = 0; i < n; i++) gp[next[ids[i]]++] = payload[i];
      this.groupedKinds = undefined;
    } else {
      let gk = pool.groupedKinds;
      if (gk !== undefined && gk.length >= n) pool.groupedKinds = undefined;
      else gk = new Uint8Array(Math.max(n, ids.length));
      for (let i = 0; i < n; i++) {
        const at = next[ids[i]]++;
        gp[at] = payload[i];
        gk[at] = kinds[i];
      }
      this.groupedKinds = gk;
    }
    this.groupedPayload = gp;
    this.starts = starts;
    this.groupedCount = n;
  }
}

/** The groups of a table, in a given id order. */
class TableGroups implements Iterable<TableGroup>, Iterator<TableGroup> {
  private j = 0;
  private readonly n: number;
  private readonly table: CombineTable;
  private readonly ids: Uint32Array | undefined;

  constructor(table: CombineTable, ids: Uint32Array | undefined) {
    this.table = table;
    this.ids = ids;
    this.n = ids === undefined ? table.size : ids.length;
  }

  [Symbol.iterator](): Iterator<TableGroup> {
    return this;
  }

  next(): IteratorResult<TableGroup> {
    if (this.j >= this.n) return { done: true, value: undefined };
    const j = this.j++;
    return { done: false, value: this.table.groupOf(this.ids === undefined ? j : this.ids[j]) };
  }
}

/** A group of a {@link CombineTable} and the iterator of its values in one object. */
class ArrayGroup extends ValuesIterator implements TableGroup {
  readonly partition: number;
  readonly keyBuf: Buffer;
  readonly keyStart: number;
  readonly keyEnd: number;
  decodedKey: Key | typeof NOT_DECODED;
  private view: Buffer | undefined;
  private readonly table: CombineTable;
  private i: number;
  private readonly end: number;

  /** The key is `keyBuf[keyStart, keyEnd)`, the values the table's grouped values `[start, end)`. */
  constructor(
    table: CombineTable,
    partition: number,
    keyBuf: Buffer,
    keyStart: number,
    keyEnd: number,
    key: Key | undefined,
    start: number,
    end: number,
  ) {
    super();
    this.table = table;
    this.partition = partition;
    this.keyBuf = keyBuf;
    this.keyStart = keyStart;
    this.keyEnd = keyEnd;
    this.decodedKey = key === undefined ? NOT_DECODED : key;
    this.i = start;
    this.end = end;
  }

  get encodedKey(): Buffer {
    if (this.view === undefined) this.view = this.keyBuf.subarray(this.keyStart, this.keyEnd);
    return this.view;
  }

  get key(): Key {
    if (this.decodedKey === NOT_DECODED) this.decodedKey = decodeKey(this.keyBuf, this.keyStart, this.keyEnd);
    return this.decodedKey;
  }

  override next(): IteratorResult<unknown> {
    if (this.closed || this.i >= this.end) {
      this.closed = true;
      return { done: true, value: undefined };
    }
    return { done: false, value: this.table.groupedValue(this.i++) };
  }

  /** Every value of a table group has the group's key. */
  valueKey(): Key {
    return this.key;
  }
}

/** Encoded length of a number value (see value-codec): a tag and 1–4 bytes for integers in [0, 2^32), else 9. */
export function numberLength(v: number): number {
  if (v >>> 0 === v && (v !== 0 || 1 / v > 0))
    return v < 0x100 ? 2 : v < 0x1_0000 ? 3 : v < 0x100_0000 ? 4 : 5;
  return 9;
}
