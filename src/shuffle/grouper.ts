/**
 * Groups a sorted record stream by key: `(key, values)` pairs for `combine`
 * and `reduce` (Hadoop's `ReduceContextImpl.ValueIterator`, Spark's
 * `ExternalSorter` merge with aggregation); or, for secondary sort, by the
 * first `groupBy` elements of tuple keys (Hadoop's grouping comparator).
 *
 * Values stream: each is decoded when it is asked for, straight from the
 * cursor, so a key with ten million values needs no more memory than one.
 * A consumer may stop early; the rest of that key's values are skipped when
 * the next group is asked for.
 */
import type { Key, Values } from '../api/types.ts';
import { decodeKey, hasTuplePrefix, keyRangeEquals, tuplePrefixEnd } from './key-codec.ts';
import type { RecordCursor } from './record-format.ts';
import { decodeValue } from './value-codec.ts';
import { ValuesIterator } from './values-iterator.ts';

/**
 * One key and its values.
 *
 * `encodedKey` is the key's encoding (`key-codec.ts`), `key` its decoded form
 * (decoded on first access), `values` the key's values: iterable once, either
 * synchronously or asynchronously (see {@link Values}). Grouped by a prefix
 * (`groupBy`), the key is the group's first full key and `values.entries()`
 * gives each value's own.
 */
export interface Group {
  readonly encodedKey: Buffer;
  readonly key: Key;
  readonly values: Values<unknown>;
}

/**
 * Where a group's encoded key lies, so that engine code can compare it
 * without making a Buffer view: `keyBuf[keyStart, keyEnd)`.
 */
export interface GroupKeyRange {
  readonly keyBuf: Buffer;
  readonly keyStart: number;
  readonly keyEnd: number;
  /** The decoded key if `key` was read already, else {@link NOT_DECODED} (peeking does not decode). */
  readonly decodedKey: unknown;
}

/** {@link GroupKeyRange.decodedKey} of a group whose key has not been decoded. */
export const NOT_DECODED: unique symbol = Symbol('not decoded');

/** A {@link Group} that also tells where its encoded key lies (the groups the engine makes). */
export type RangedGroup = Group & GroupKeyRange;

/** The groups of a cursor: iterable once, with running counts. */
export interface GroupIterable extends Iterable<RangedGroup> {
  /** Groups started so far. */
  readonly groups: number;
  /** Records read from the cursor so far (values returned or skipped). */
  readonly records: number;
}

/** Options of {@link groupByKey}. */
export interface GroupOptions {
  /**
   * Called with the records read so far after every `every` records, also in
   * the middle of a key's values: a reducer busy with one huge key still
   * reports progress (Hadoop's value iterator reports progress per value).
   */
  onRecords?(records: number): void;
  /** Records between two `onRecords` calls (default 65 536). */
  every?: number;
  /**
   * Group tuple keys by their first `groupBy` elements (an integer >= 1)
   * instead of by the whole key: consecutive records whose encoded keys share
   * the encoded prefix form one group. Default: the whole key.
   */
  groupBy?: number;
}

/**
 * Groups consecutive records with equal encoded keys (with `groupBy`: equal
 * encoded key prefixes). `cursor` must be sorted by key (a merge output); the
 * groups come in its order. Iterable once.
 *
 * A group's values are valid only until the next group is asked for; after
 * that they yield nothing. Errors of the cursor (e.g. `TSMR_CORRUPT_DATA`)
 * are thrown from whichever iteration step reads the record; with `groupBy`,
 * a key that is not a tuple of at least `groupBy` elements throws
 * `TSMR_BAD_KEY` when its group is asked for.
 */
export function groupByKey(cursor: RecordCursor, options: GroupOptions = {}): GroupIterable {
  return new Grouper(cursor, options);
}

class Grouper implements GroupIterable, Iterator<RangedGroup> {
  groups = 0;
  records = 0;
  readonly cursor: RecordCursor;
  /** The cursor holds a record that no group has taken yet. */
  pending = false;
  exhausted = false;
  private current: GroupValues | undefined;
  private readonly onRecords: ((records: number) => void) | undefined;
  private readonly every: number;
  /** Records left until the next `onRecords` call. */
  private untilReport: number;
  /** Leading tuple elements that make a group; 0: the whole key. */
  private readonly groupBy: number;

  constructor(cursor: RecordCursor, options: GroupOptions) {
    this.cursor = cursor;
    this.onRecords = options.onRecords;
    this.every = options.every ?? 65_536;
    this.untilReport = this.every;
    this.groupBy = options.groupBy ?? 0;
  }

  /** Counts a record read from the cursor. */
  counted(): void {
    this.records++;
    if (--this.untilReport === 0) {
      this.untilReport = this.every;
      this.onRecords?.(this.records);
    }
  }

  [Symbol.iterator](): Iterator<RangedGroup> {
    return this;
  }

  next(): IteratorResult<RangedGroup> {
    const last = this.current;
    if (last !== undefined && !last.ended) last.skipRest();
    if (!this.pending) {
      if (this.exhausted || !this.cursor.next()) {
        this.exhausted = true;
        this.current = undefined;
        return { done: true, value: undefined };
      }
      this.counted();
    }
    this.pending = false;
    const c = this.cursor;
    const encodedKey = Buffer.allocUnsafe(c.keyEnd - c.keyStart);
    c.buf.copy(encodedKey, 0, c.keyStart, c.keyEnd);
    const prefixEnd =
      this.groupBy === 0 ? -1 : tuplePrefixEnd(encodedKey, 0, encodedKey.length, this.groupBy);
    const group = new GroupValues(this, encodedKey, prefixEnd);
    this.current = group;
    this.groups++;
    return { done: false, value: group };
  }
}

/** A group and its values iterator in one object. */
class GroupValues extends ValuesIterator implements RangedGroup {
  readonly encodedKey: Buffer;
  readonly keyStart = 0;
  /** The cursor moved past this key's last value. */
  ended = false;
  /** The cursor's current record is this group's first value, not yet returned. */
  private first = true;
  decodedKey: Key | typeof NOT_DECODED = NOT_DECODED;
  private readonly grouper: Grouper;
  /** Length of the encoded prefix that every key of the group shares; -1: the whole key. */
  private readonly prefixEnd: number;

  constructor(grouper: Grouper, encodedKey: Buffer, prefixEnd: number) {
    super();
    this.grouper = grouper;
    this.encodedKey = encodedKey;
    this.prefixEnd = prefixEnd;
  }

  get keyBuf(): Buffer {
    return this.encodedKey;
  }

  get keyEnd(): number {
    return this.encodedKey.length;
  }

  get key(): Key {
    if (this.decodedKey === NOT_DECODED) this.decodedKey = decodeKey(this.encodedKey);
    return this.decodedKey;
  }

  override next(): IteratorResult<unknown> {
    if (this.closed || !this.advance()) {
      this.closed = true;
      return { done: true, value: undefined };
    }
    const c = this.grouper.cursor;
    return { done: false, value: decodeValue(c.buf, c.valueStart, c.valueEnd) };
  }

  valueKey(): Key {
    if (this.prefixEnd < 0) return this.key;
    const c = this.grouper.cursor;
    return decodeKey(c.buf, c.keyStart, c.keyEnd);
  }

  /** Moves the cursor to this key's next value; false at the end of the key. */
  advance(): boolean {
    if (this.ended) return false;
    if (this.first) {
      this.first = false;
      return true;
    }
    const g = this.grouper;
    const c = g.cursor;
    if (!c.next()) {
      g.exhausted = true;
      this.ended = true;
      return false;
    }
    g.counted();
    const k = this.encodedKey;
    const m = this.prefixEnd;
    const same =
      m < 0
        ? keyRangeEquals(c.buf, c.keyStart, c.keyEnd, k, 0, k.length)
        : hasTuplePrefix(c.buf, c.keyStart, c.keyEnd, k, m);
    if (!same) {
      g.pending = true;
      this.ended = true;
      return false;
    }
    return true;
  }

  skipRest(): void {
    this.closed = true;
    while (this.advance());
  }
}
