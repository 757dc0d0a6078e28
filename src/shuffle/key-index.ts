/**
 * The key index shared by the map-side hash tables (`combine-table.ts`,
 * `fold-table.ts`): key → entry id, each distinct key encoded once into a key
 * arena and partitioned once.
 *
 * Keys live in three separate tables, so that key spaces never mix: strings
 * in a {@link StringTable} keyed by the string itself, numbers in a `Map`
 * keyed by the number (`Map` treats `-0` as `0` and `NaN` as one key, as the
 * key codec does), every other key in a `Map` keyed by the latin1 string of
 * its encoding. A string key is stored as a fresh copy decoded from its
 * encoding: a key sliced out of a large input line or chunk would otherwise
 * keep that whole line alive. Strings are encoded as WTF-8 (`key-codec.ts`),
 * so two distinct strings (lone surrogates included) are two entries.
 *
 * String keys given as bytes (`textId`, for `MapContext.emitText`) are looked
 * up in an {@link EncodedKeyTable} of the encodings, made at the first such
 * lookup; from then on every new entry goes into both tables.
 *
 * Memory accounting (`bytes`) is approximate: per distinct key
 * {@link ENTRY_BYTES} plus its key bytes, plus the strings the maps hold: a key
 * given as bytes counts the length of a string too, made or not, which also
 * stands for its copy in the sorted layout (`sorted-keys.ts`) once sorted.
 */
import type { Key } from '../api/types.ts';
import { ByteWriter, copyBytes } from './byte-writer.ts';
import { KeyTag, keyRangeEquals, writeKey } from './key-codec.ts';
import { hashPartitionRange } from './partitioner.ts';
import { BODY_KEY, EncodedKeyTable, bodyKey } from './encoded-key-table.ts';
import { StringTable } from './string-table.ts';
import { mergeSortedKeys, noSortedKeys, type SortedKeys } from './sorted-keys.ts';
import { decodeText, isWellFormedUtf8, utf16Length, writeLatin1Body } from './text-bytes.ts';
import { readWtf8 } from './wtf8.ts';
import type { CheckedPartition } from './sort-buffer.ts';
import type { KeySorter } from './sort-index.ts';

/** Accounted bytes per distinct key, besides its key bytes (table slots, key string, metadata, sort order). */
export const ENTRY_BYTES = 100;
/** Strings at least this long may be slices of a larger string (V8's `SlicedString::kMinLength`). */
const SLICE_MIN = 13;

export class KeyIndex {
  /** Distinct keys (entry ids are `[0, size)`, in insertion order). */
  size = 0;
  /** Approximate memory held, in bytes. */
  bytes = 0;
  /** Per entry id: partition, key start, key end (in {@link keyBuf}). */
  meta: Uint32Array = new Uint32Array(3 * 256);
  /** Per entry id: the bytes it added to {@link bytes}. */
  entryBytes: Uint32Array = new Uint32Array(256);
  /** Per entry id, when asked for: the key, for string and number keys (others are `undefined`). */
  readonly keyObjects: Array<Key | undefined> | undefined;
  private readonly numPartitions: number;
  private readonly partition: CheckedPartition | undefined;
  /** String → id; made at the first lookup of a string (a job that emits only text ranges never makes one). */
  private strings: StringTable | undefined;
  private readonly numbers = new Map<number, number>();
  private readonly others = new Map<string, number>();
  private readonly keyArena = new ByteWriter(64 * 1024);
  /** Keys `[0, sorted.ids.length)` in (partition, key) order, as {@link sortedKeys} last returned them. */
  private sorted: SortedKeys;
  private readonly scratch = new ByteWriter(256);
  /** Encoding → id, once a key was looked up as bytes. */
  private encoded: EncodedKeyTable | undefined;

  /**
   * @param partition a checked partition function; `undefined` for the default hash partitioner.
   * @param keepKeys whether to keep {@link keyObjects}.
   */
  constructor(numPartitions: number, partition: CheckedPartition | undefined, keepKeys: boolean) {
    this.numPartitions = numPartitions;
    this.partition = partition;
    this.keyObjects = keepKeys ? [] : undefined;
    this.sorted = noSortedKeys(numPartitions);
  }

  /** Whether the index was made for `numPartitions` partitions and the default partitioner. */
  reusableFor(numPartitions: number): boolean {
    return this.partition === undefined && this.numPartitions === numPartitions;
  }

  /** The key arena: entry `id`'s encoded key is `keyBuf[meta[3·id + 1], meta[3·id + 2])`. */
  get keyBuf(): Buffer {
    return this.keyArena.buf;
  }

  /** The entry id of string key `key`, or -1 if unknown (one table lookup: the hot path). */
  stringId(key: string): number {
    return (this.strings ?? this.indexStrings()).get(key);
  }

  /**
   * The entry id of the string key that `bytes[start, end)` decode to (as
   * latin1, or as UTF-8), looked up as bytes; -1 if unknown, or for ill-formed
   * UTF-8, which only its decoded string can look up (`text-bytes.ts`).
   */
  textId(bytes: Uint8Array, start: number, end: number, latin1: boolean): number {
    const table = this.encoded ?? this.indexEncodings();
    if (bodyKey(bytes, start, end)) return this.nonAsciiTextId(bytes, start, end, latin1);
    const k = BODY_KEY;
    return table.stringId(k[0], k[1], k[2], bytes, start, end, this.keyArena.buf, this.meta);
  }

  /**
   * {@link textId} of bytes that are not all ASCII, whose {@link bodyKey} was
   * just computed: well-formed UTF-8 is looked up as it is, latin1 by its
   * UTF-8, and ill-formed UTF-8 is not looked up as bytes (-1).
   */
  private nonAsciiTextId(bytes: Uint8Array, start: number, end: number, latin1: boolean): number {
    const table = this.encoded as EncodedKeyTable;
    const k = BODY_KEY;
    if (!latin1) {
      if (!isWellFormedUtf8(bytes, start, end)) return -1;
      return table.stringId(k[0], k[1], k[2], bytes, start, end, this.keyArena.buf, this.meta);
    }
    const w = this.scratch;
    w.reset();
    w.ensure(2 * (end - start));
    const n = writeLatin1Body(bytes, start, end, w.buf, 0);
    bodyKey(w.buf, 0, n);
    return table.stringId(k[0], k[1], k[2], w.buf, 0, n, this.keyArena.buf, this.meta);
  }

  /** Makes the table of string keys as bytes, holding every string entry so far. */
  private indexEncodings(): EncodedKeyTable {
    this.encoded = new EncodedKeyTable();
    for (let id = 0; id < this.size; id++) this.indexEncoding(id);
    return this.encoded;
  }

  /** Adds entry `id` to {@link encoded} if it is a string key. */
  private indexEncoding(id: number): void {
    const m = this.meta;
    const arena = this.keyArena.buf;
    const ks = m[3 * id + 1];
    if (arena[ks] !== KeyTag.STRING) return;
    bodyKey(arena, ks + 1, m[3 * id + 2]);
    const k = BODY_KEY;
    (this.encoded as EncodedKeyTable).add(k[0], k[1], k[2], id);
  }

  /**
   * The entry id of `key`, inserted if new (then `size` grows).
   * @throws TsmrError `TSMR_BAD_KEY`; errors of the partition function (nothing is inserted then).
   */
  idOf(key: Key): number {
    if (typeof key === 'string') {
      const id = (this.strings ?? this.indexStrings()).get(key);
      return id >= 0 ? id : this.insertString(key);
    }
    const w = this.keyArena;
    const start = w.pos;
    if (typeof key === 'number') {
      const found = this.numbers.get(key);
      if (found !== undefined) return found;
      writeKey(w, key);
      const object = key === 0 ? 0 : key;
      const id = this.newEntry(this.partitionOf(start, object), start, object, 0);
      this.numbers.set(object, id);
      return id;
    }
    const s = this.scratch;
    s.reset();
    writeKey(s, key);
    const name = s.buf.toString('latin1', 0, s.pos);
    const found = this.others.get(name);
    if (found !== undefined) return found;
    w.bytes(s.buf, 0, s.pos);
    const id = this.newEntry(this.partitionOf(start, key), start, undefined, name.length + 24);
    this.others.set(name, id);
    return id;
  }

  /**
   * The entry id of an already encoded and partitioned key, appended in
   * non-decreasing (partition, key) order: the last entry's id when it is the
   * same key, else a new entry's.
   */
  idOfSorted(partition: number, key: Key, keyBuf: Buffer, keyStart: number, keyEnd: number): number {
    const m = this.meta;
    const last = this.size - 1;
    if (
      last >= 0 &&
      m[3 * last] === partition &&
      keyRangeEquals(keyBuf, keyStart, keyEnd, this.keyArena.buf, m[3 * last + 1], m[3 * last + 2])
    ) {
      return last;
    }
    const w = this.keyArena;
    const start = w.pos;
    w.bytes(keyBuf, keyStart, keyEnd);
    if (typeof key === 'string') {
      const object = ownedKeyString(key, w.buf, start, w.pos);
      const id = this.newEntry(partition, start, object, object.length);
      this.strings?.set(object, id);
      return id;
    }
    if (typeof key === 'number') {
      const id = this.newEntry(partition, start, key === 0 ? 0 : key, 0);
      this.numbers.set(key, id);
      return id;
    }
    const name = w.buf.toString('latin1', start, w.pos);
    const id = this.newEntry(partition, start, undefined, name.length + 24);
    this.others.set(name, id);
    return id;
  }

  /**
   * The keys in (partition, key) order, laid out for writing
   * (`sorted-keys.ts`). The order is kept: a later call sorts only the keys
   * inserted since and merges them in (a fold table passed from task to task,
   * `FoldTableCache`, is sorted once). Valid until the next call.
   */
  sortedKeys(sorter: KeySorter): SortedKeys {
    const n = this.size;
    const known = this.sorted.ids.length;
    if (known < n) {
      const added = sorter.sort(n, this.meta, 3, this.keyArena.buf, this.numPartitions, known);
      this.sorted = mergeSortedKeys(this.sorted, added, this.meta, this.keyArena.buf, this.numPartitions);
    }
    return this.sorted;
  }

  /**
   * Entry ids in (partition, key) order, all keys sorted afresh, without the
   * layout of {@link sortedKeys}: for a combine table, which is sorted once,
   * at its spill, and read through its groups.
   */
  sortedIds(sorter: KeySorter): Uint32Array {
    return sorter.sort(this.size, this.meta, 3, this.keyArena.buf, this.numPartitions).slice();
  }

  private insertString(key: string): number {
    const w = this.keyArena;
    const start = w.pos;
    w.byte(KeyTag.STRING);
    w.wtf8(key);
    const object = ownedKeyString(key, w.buf, start, w.pos);
    const id = this.newEntry(this.partitionOf(start, object), start, object, object.length);
    this.strings?.set(object, id);
    return id;
  }

  /**
   * The entry id of the string key that `bytes[start, end)` decode to (see
   * {@link textId}), inserted if new: written to the arena from the bytes,
   * its string made only if something needs it (a string table, key objects,
   * a user's partition function).
   * @throws errors of the partition function (nothing is inserted then).
   */
  textIdOf(bytes: Uint8Array, start: number, end: number, latin1: boolean): number {
    const found = this.textId(bytes, start, end, latin1);
    if (found >= 0) return found;
    if (!latin1 && !isWellFormedUtf8(bytes, start, end))
      return this.idOf(decodeText(bytes, start, end, false));
    const w = this.keyArena;
    const begin = w.pos;
    w.ensure(1 + 2 * (end - start));
    w.buf[begin] = KeyTag.STRING;
    if (latin1) {
      w.pos = writeLatin1Body(bytes, start, end, w.buf, begin + 1);
    } else {
      copyBytes(bytes, start, end, w.buf, begin + 1);
      w.pos = begin + 1 + end - start;
    }
    const needed =
      this.strings !== undefined || this.keyObjects !== undefined || this.partition !== undefined;
    const object = needed ? readWtf8(w.buf, begin + 1, w.pos) : undefined;
    const id = this.newEntry(
      this.partitionOf(begin, object),
      begin,
      object,
      utf16Length(w.buf, begin + 1, w.pos),
    );
    if (object !== undefined) this.strings?.set(object, id);
    return id;
  }

  /** Makes the string table, holding every string entry so far. */
  private indexStrings(): StringTable {
    const strings = new StringTable();
    const m = this.meta;
    const arena = this.keyArena.buf;
    for (let id = 0; id < this.size; id++) {
      const ks = m[3 * id + 1];
      if (arena[ks] === KeyTag.STRING) strings.set(readWtf8(arena, ks + 1, m[3 * id + 2]), id);
    }
    this.strings = strings;
    return strings;
  }

  /** Partition of the key just written at `keyArena[start, pos)`; undoes the write on error. */
  private partitionOf(start: number, key: Key | undefined): number {
    if (this.numPartitions === 1) return 0;
    const w = this.keyArena;
    if (this.partition === undefined) return hashPartitionRange(w.buf, start, w.pos, this.numPartitions);
    try {
      return this.partition(w.buf.subarray(start, w.pos), key as Key);
    } catch (error) {
      w.pos = start;
      throw error;
    }
  }

  /**
   * A new entry for the key just written at `keyArena[start, pos)`.
   * @param extra accounted bytes of the key's map entry (its string, its name).
   */
  private newEntry(partition: number, start: number, object: Key | undefined, extra: number): number {
    const id = this.size;
    const end = this.keyArena.pos;
    if (3 * id === this.meta.length) {
      const bigger = new Uint32Array(this.meta.length * 2);
      bigger.set(this.meta);
      this.meta = bigger;
      const more = new Uint32Array(this.entryBytes.length * 2);
      more.set(this.entryBytes);
      this.entryBytes = more;
    }
    this.meta[3 * id] = partition;
    this.meta[3 * id + 1] = start;
    this.meta[3 * id + 2] = end;
    const bytes = ENTRY_BYTES + (end - start) + extra;
    this.entryBytes[id] = bytes;
    this.bytes += bytes;
    this.keyObjects?.push(object);
    this.size = id + 1;
    if (this.encoded !== undefined) this.indexEncoding(id);
    return id;
  }
}

/**
 * The string the index keeps for string key `key`, whose encoding (tag byte
 * first) was just written at `buf[start, end)`: `key` itself when short, else
 * an equal fresh copy decoded from the encoding (a long key may be a slice
 * keeping a whole input line alive).
 */
export function ownedKeyString(key: string, buf: Buffer, start: number, end: number): string {
  return key.length >= SLICE_MIN ? readWtf8(buf, start + 1, end) : key;
}
