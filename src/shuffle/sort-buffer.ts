/**
 * The map-side sort buffer of jobs without a combiner (Hadoop's
 * `MapTask.MapOutputBuffer`, without its circular-buffer concurrency).
 *
 * Each emitted pair is encoded at once into one byte arena: key bytes, then
 * value bytes, record after record. Per record, typed arrays hold its
 * partition and three offsets (16 bytes). A spill sorts record indices by
 * (partition, key bytes, emit order) with {@link KeySorter} and writes the
 * records in that order. Encoding at emit time also snapshots the value: a map
 * function may reuse and mutate an object after emitting it.
 *
 * Memory accounting (`bytes`): arena bytes + 28 bytes per record (metadata and
 * sort scratch), close to what is really held.
 */
import type { Key } from '../api/types.ts';
import { ErrorCode, TsmrError } from '../errors.ts';
import { ByteWriter } from './byte-writer.ts';
import { writeKey } from './key-codec.ts';
import { hashPartitionRange } from './partitioner.ts';
import type { RecordCursor } from './record-format.ts';
import type { RunWriter } from './run-writer.ts';
import { KeySorter, SORT_BYTES_PER_RECORD } from './sort-index.ts';
import { writeValue } from './value-codec.ts';

/** A partition function that has been checked to return an integer in `[0, R)`. */
export type CheckedPartition = (encodedKey: Buffer, key: Key) => number;

/** Accounted bytes per record: four Uint32 metadata fields plus sort scratch. */
export const SORT_BUFFER_BYTES_PER_RECORD = 16 + SORT_BYTES_PER_RECORD;

/** Largest arena offset the Uint32 metadata can hold. */
const MAX_ARENA = 0xffff_ffff;

export class SortBuffer {
  /** Records held. */
  records = 0;
  /** Encoded key + value bytes of all records added since construction (Hadoop's MAP_OUTPUT_BYTES). */
  emittedBytes = 0;
  private readonly numPartitions: number;
  private readonly partition: CheckedPartition | undefined;
  private readonly initialArena: number;
  private readonly budget: number;
  private arena: ByteWriter;
  /** Per record: partition, key start, key end (= value start), value end. */
  private meta: Uint32Array = new Uint32Array(4 * 1024);
  private readonly sorter = new KeySorter();

  /**
   * @param budget the sort buffer budget in bytes (the arena starts at
   *   `min(budget, 1 MiB)` and grows by doubling).
   */
  /** @param partition a checked partition function; `undefined` for the default hash partitioner. */
  constructor(numPartitions: number, partition: CheckedPartition | undefined, budget: number) {
    this.numPartitions = numPartitions;
    this.partition = partition;
    this.budget = budget;
    this.initialArena = Math.max(256, Math.min(budget, 1 << 20));
    this.arena = new ByteWriter(this.initialArena);
  }

  /** Accounted memory in bytes. */
  get bytes(): number {
    return this.arena.pos + this.records * SORT_BUFFER_BYTES_PER_RECORD;
  }

  /**
   * Encodes and adds one pair.
   * @throws TsmrError `TSMR_BAD_KEY`, `TSMR_BAD_VALUE`, `TSMR_BAD_PARTITION`
   *   (nothing is added then).
   */
  add(key: Key, value: unknown): void {
    const w = this.arena;
    const start = w.pos;
    let p = 0;
    try {
      writeKey(w, key);
      if (this.numPartitions > 1) {
        p =
          this.partition === undefined
            ? hashPartitionRange(w.buf, start, w.pos, this.numPartitions)
            : this.partition(w.buf.subarray(start, w.pos), key);
      }
    } catch (error) {
      w.pos = start;
      throw error;
    }
    const keyEnd = w.pos;
    try {
      writeValue(w, value);
    } catch (error) {
      w.pos = start;
      throw error;
    }
    if (w.pos > MAX_ARENA) {
      w.pos = start;
      throw new TsmrError(
        ErrorCode.BAD_VALUE,
        'one map call emitted more than 4 GiB: spill in between or emit less',
      );
    }
    const n = this.records;
    if (4 * n === this.meta.length) this.grow();
    const m = this.meta;
    m[4 * n] = p;
    m[4 * n + 1] = start;
    m[4 * n + 2] = keyEnd;
    m[4 * n + 3] = w.pos;
    this.records = n + 1;
    this.emittedBytes += w.pos - start;
  }

  /**
   * Sorts the records by (partition, key, emit order), appends them to
   * `writer`, and empties the buffer.
   * @returns the number of records written.
   */
  spillTo(writer: RunWriter): number {
    const n = this.records;
    this.sortedCursors().forEach((cursor, p) => writer.appendAll(p, cursor));
    this.clear();
    return n;
  }

  /**
   * Sorts the records by (partition, key, emit order) and returns one cursor per
   * partition over them, where they lie in the arena (no copy): the last
   * input of the map task's final merge, in place of a spill run written and
   * read back. The cursors are valid until the buffer is cleared or added to.
   */
  sortedCursors(): RecordCursor[] {
    const n = this.records;
    const m = this.meta;
    const order = this.sorter.sort(n, m, 4, this.arena.buf, this.numPartitions);
    const cursors: RecordCursor[] = [];
    let j = 0;
    for (let p = 0; p < this.numPartitions; p++) {
      let k = j;
      while (k < n && m[4 * order[k]] === p) k++;
      cursors.push(new SortedRecordCursor(this.arena.buf, m, order, j, k));
      j = k;
    }
    return cursors;
  }

  /** Drops all records; shrinks the arena back if one map call had grown it past twice its budget. */
  clear(): void {
    this.records = 0;
    this.arena.reset();
    if (this.arena.buf.length > 2 * Math.max(this.budget, this.initialArena)) {
      this.arena = new ByteWriter(this.initialArena);
    }
  }

  private grow(): void {
    const bigger = new Uint32Array(this.meta.length * 2);
    bigger.set(this.meta);
    this.meta = bigger;
  }
}

/** Records `order[from, to)` of a sorted {@link SortBuffer}, in that order. */
class SortedRecordCursor implements RecordCursor {
  readonly buf: Buffer;
  keyStart = 0;
  keyEnd = 0;
  valueStart = 0;
  valueEnd = 0;
  private readonly meta: Uint32Array;
  private readonly order: Uint32Array;
  private at: number;
  private readonly to: number;

  constructor(buf: Buffer, meta: Uint32Array, order: Uint32Array, from: number, to: number) {
    this.buf = buf;
    this.meta = meta;
    this.order = order;
    this.at = from;
    this.to = to;
  }

  next(): boolean {
    if (this.at === this.to) return false;
    const i = 4 * this.order[this.at++];
    const m = this.meta;
    this.keyStart = m[i + 1];
    this.keyEnd = m[i + 2];
    this.valueStart = m[i + 2];
    this.valueEnd = m[i + 3];
    return true;
  }
}
