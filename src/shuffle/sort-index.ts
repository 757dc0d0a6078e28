/**
 * Sorts record indices by (partition, encoded key bytes), stable (equal keys
 * keep index order, i.e. emit order).
 *
 * Comparison sorts with a JS comparator cost about 100 ns per comparison; this
 * sorter instead uses the native, comparator-free sort of a `BigUint64Array`
 * as a radix step (the idea of Hadoop's and Spark's cached key prefixes, taken
 * further: an MSD radix sort on key prefixes):
 *
 * 1. A counting sort by partition (stable, linear).
 * 2. Within a partition, each record gets a 64-bit sort word: a window of
 *    the next 5 key bytes after the bytes all records of the range share, a
 *    3-bit code saying how many key bytes remain (0–5, or 6 for "more"), and
 *    the record index (21 bits). One native sort orders the range by (window,
 *    index). The length code makes the word order exact: equal windows with
 *    "0–5 remaining" are equal keys, already in index order. (Above 2^21
 *    records, windows are 3 bytes and the index gets 32 bits.)
 * 3. Runs of equal words with "more" are refined the same way from the next
 *    window (after skipping their longest common prefix); runs of at most 16
 *    records use insertion sort with a byte comparison instead.
 *
 * Memory: 12 bytes per record (sort words and the result), kept between
 * calls and grown as needed.
 */
import { compareKeyRange } from './key-codec.ts';

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LO = littleEndian ? 0 : 1;
const HI = 1 - LO;
/** Ranges this small are insertion-sorted. */
const SMALL = 16;
/** Sort word bytes per record plus the result index. */
export const SORT_BYTES_PER_RECORD = 12;
/** Up to this many records, sort words carry 5 key bytes (21 index bits), else 3 (32 index bits). */
const WIDE_LIMIT = 1 << 21;

export class KeySorter {
  private readonly wideLimit: number;
  private keys = new BigUint64Array(0);
  private words = new Uint32Array(0);
  private order = new Uint32Array(0);

  /**
   * @param options.wideLimit most records sorted with 5-byte windows (default
   *   and maximum 2^21; tests lower it to exercise 3-byte windows).
   */
  constructor(options: { wideLimit?: number } = {}) {
    this.wideLimit = Math.min(options.wideLimit ?? WIDE_LIMIT, WIDE_LIMIT);
  }

  /**
   * Sorts records `first … n-1`, described by `meta` with `stride` numbers per
   * record: `meta[i·stride]` is record i's partition (in `[0, numPartitions)`),
   * `meta[i·stride + 1]` and `meta[i·stride + 2]` the start and end of its key
   * in `buf`.
   * @param first the first record to sort (default 0).
   * @returns the `n - first` record indices in order: a view valid until the next call.
   */
  sort(
    n: number,
    meta: Uint32Array,
    stride: number,
    buf: Buffer,
    numPartitions: number,
    first = 0,
  ): Uint32Array {
    const m = n - first;
    if (this.order.length < m) {
      const capacity = Math.max(m, Math.ceil(this.order.length * 1.5));
      this.keys = new BigUint64Array(capacity);
      this.words = new Uint32Array(this.keys.buffer);
      this.order = new Uint32Array(capacity);
    }
    const order = this.order;
    const stack: number[] = [];
    if (numPartitions <= 1) {
      for (let i = 0; i < m; i++) order[i] = first + i;
      stack.push(0, m, 0);
    } else {
      // Counting sort by partition.
      const next = new Float64Array(numPartitions + 1);
      for (let i = first; i < n; i++) next[meta[i * stride] + 1]++;
      for (let p = 0; p < numPartitions; p++) {
        const start = next[p];
        next[p + 1] += start;
        if (next[p + 1] - start > 1) stack.push(start, next[p + 1], 0);
      }
      for (let i = first; i < n; i++) order[next[meta[i * stride]]++] = i;
    }
    // Sort words carry record indices, which are below n.
    const wide = n <= this.wideLimit;
    while (stack.length > 0) {
      const offset = stack.pop() as number;
      const end = stack.pop() as number;
      const start = stack.pop() as number;
      if (wide) this.sortRangeWide(start, end, offset, meta, stride, buf, stack);
      else this.sortRangeNarrow(start, end, offset, meta, stride, buf, stack);
    }
    return order.subarray(0, m);
  }

  /**
   * Prepares sorting `order[start, end)`, in index order now, whose keys share
   * their first `offset` bytes: insertion-sorts small ranges, skips ranges of
   * equal keys. @returns the offset of the first byte where keys differ, or -1
   * when the range is done.
   */
  private prepare(
    start: number,
    end: number,
    offset: number,
    meta: Uint32Array,
    stride: number,
    buf: Buffer,
  ): number {
    const order = this.order;
    if (end - start <= SMALL) {
      insertionSort(order, start, end, meta, stride, buf);
      return -1;
    }
    // Longest common prefix of the range (beyond `offset`), and whether all keys are equal.
    const first = order[start] * stride;
    const fs = meta[first + 1];
    const fe = meta[first + 2];
    let common = fe - fs;
    let allEqual = true;
    for (let j = start + 1; j < end; j++) {
      const r = order[j] * stride;
      const ks = meta[r + 1];
      const len = meta[r + 2] - ks;
      if (len !== fe - fs) allEqual = false;
      const limit = len < common ? len : common;
      let i = offset;
      while (i < limit && buf[ks + i] === buf[fs + i]) i++;
      if (i < common) {
        common = i;
        allEqual = false;
        if (common === offset) break;
      }
    }
    return allEqual ? -1 : common;
  }

  /** Sort words of 5 key bytes, a 3-bit length code (0–5 bytes left, 6: more) and a 21-bit index. */
  private sortRangeWide(
    start: number,
    end: number,
    offset: number,
    meta: Uint32Array,
    stride: number,
    buf: Buffer,
    stack: number[],
  ): void {
    offset = this.prepare(start, end, offset, meta, stride, buf);
    if (offset < 0) return;
    fillWide(this.order, this.words, start, end, offset, meta, stride, buf);
    this.keys.subarray(start, end).sort();
    unpack(this.order, this.words, start, end, WIDE_LIMIT - 1);
    pushRunsWide(this.words, start, end, offset, stack);
  }

  /** Sort words of 3 key bytes, a length code (0–3 bytes left, 4: more) and a 32-bit index. */
  private sortRangeNarrow(
    start: number,
    end: number,
    offset: number,
    meta: Uint32Array,
    stride: number,
    buf: Buffer,
    stack: number[],
  ): void {
    offset = this.prepare(start, end, offset, meta, stride, buf);
    if (offset < 0) return;
    fillNarrow(this.order, this.words, start, end, offset, meta, stride, buf);
    this.keys.subarray(start, end).sort();
    unpack(this.order, this.words, start, end, 0xffff_ffff);
    pushRunsNarrow(this.words, start, end, offset, stack);
  }
}

// The steps of a range's sort are functions of their own, each one loop: V8
// compiles a long-running loop on stack replacement, and code after the loop
// that had not run by then deoptimizes it; in one function this happened
// again at every range (measured: 338 deoptimizations in one map task).

/** Writes the wide sort words of `order[start, end)` (see {@link KeySorter}). */
function fillWide(
  order: Uint32Array,
  words: Uint32Array,
  start: number,
  end: number,
  offset: number,
  meta: Uint32Array,
  stride: number,
  buf: Buffer,
): void {
  for (let j = start; j < end; j++) {
    const r = order[j];
    const p = meta[r * stride + 1] + offset;
    const left = meta[r * stride + 2] - p;
    let h = 0;
    let l: number;
    if (left >= 5) {
      h = (buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3];
      l = (buf[p + 4] << 24) | ((left > 5 ? 6 : 5) << 21);
    } else {
      for (let i = 0; i < left && i < 4; i++) h |= buf[p + i] << (24 - 8 * i);
      l = left << 21;
    }
    words[2 * j + HI] = h;
    words[2 * j + LO] = l | r;
  }
}

/** Writes the narrow sort words of `order[start, end)`. */
function fillNarrow(
  order: Uint32Array,
  words: Uint32Array,
  start: number,
  end: number,
  offset: number,
  meta: Uint32Array,
  stride: number,
  buf: Buffer,
): void {
  for (let j = start; j < end; j++) {
    const r = order[j];
    const p = meta[r * stride + 1] + offset;
    const left = meta[r * stride + 2] - p;
    let w: number;
    if (left >= 3) w = (buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | (left > 3 ? 4 : 3);
    else if (left === 2) w = (buf[p] << 24) | (buf[p + 1] << 16) | 2;
    else if (left === 1) w = (buf[p] << 24) | 1;
    else w = 0;
    words[2 * j + HI] = w;
    words[2 * j + LO] = r;
  }
}

/** Reads the record indices back from the sorted words into `order[start, end)`. */
function unpack(order: Uint32Array, words: Uint32Array, start: number, end: number, mask: number): void {
  for (let j = start; j < end; j++) order[j] = (words[2 * j + LO] & mask) >>> 0;
}

/** Pushes the runs of equal wide words whose keys go on, to be refined from the next window. */
function pushRunsWide(words: Uint32Array, start: number, end: number, offset: number, stack: number[]): void {
  let j = start;
  while (j < end) {
    const h = words[2 * j + HI];
    const l = words[2 * j + LO] >>> 21;
    let k = j + 1;
    while (k < end && words[2 * k + HI] === h && words[2 * k + LO] >>> 21 === l) k++;
    if (k - j > 1 && (l & 7) === 6) stack.push(j, k, offset + 5);
    j = k;
  }
}

/** Pushes the runs of equal narrow words whose keys go on. */
function pushRunsNarrow(
  words: Uint32Array,
  start: number,
  end: number,
  offset: number,
  stack: number[],
): void {
  let j = start;
  while (j < end) {
    const w = words[2 * j + HI];
    let k = j + 1;
    while (k < end && words[2 * k + HI] === w) k++;
    if (k - j > 1 && (w & 0xff) === 4) stack.push(j, k, offset + 3);
    j = k;
  }
}

/** Stable insertion sort of `order[start, end)` by key bytes. */
function insertionSort(
  order: Uint32Array,
  start: number,
  end: number,
  meta: Uint32Array,
  stride: number,
  buf: Buffer,
): void {
  for (let i = start + 1; i < end; i++) {
    const r = order[i];
    const rs = meta[r * stride + 1];
    const re = meta[r * stride + 2];
    let j = i - 1;
    while (j >= start) {
      const q = order[j];
      if (compareKeyRange(buf, meta[q * stride + 1], meta[q * stride + 2], buf, rs, re) <= 0) break;
      order[j + 1] = q;
      j--;
    }
    order[j + 1] = r;
  }
}
