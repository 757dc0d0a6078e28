/**
 * k-way merge of sorted segments into one sorted stream of records.
 *
 * Records are ordered by their encoded key bytes; equal keys keep the order of
 * the segments they come from (segment 0 first), so the merge is stable and a
 * deterministic job gives byte-identical output whatever ran twice. A
 * tournament tree of losers holds one cursor per segment.
 *
 * At most `fanIn` segments are open at once. With more segments, intermediate
 * passes first merge groups of segments into temporary run files, as Hadoop's
 * `Merger.MergeQueue` does: the first pass merges just enough segments
 * (`(n - 1) mod (fanIn - 1) + 1`, or `fanIn` when that is 1) that every later
 * pass, and the final streaming merge, merges exactly `fanIn`. Where Hadoop
 * picks the smallest segments, we pick the adjacent group of segments with the
 * fewest bytes: adjacency keeps the merge stable.
 *
 * Memory: at most `fanIn` read buffers (`bufferBytes`, default 256 KiB each)
 * plus one write buffer during intermediate passes.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { ErrorCode, TsmrError } from '../errors.ts';
import { compareKeyRange } from './key-codec.ts';
import type { RecordCursor } from './record-format.ts';
import { RunWriter } from './run-writer.ts';
import { openSegment } from './segment-reader.ts';
import type { SegmentRef } from './segment-reader.ts';
import { removeQuietly } from './file-io.ts';

/** Options of {@link mergeSegments}. */
export interface MergeOptions {
  /** Most segments merged at once (>= 2). */
  fanIn: number;
  /** Directory for intermediate run files (deleted when no longer needed). */
  tmpDir: string;
  /** Read buffer per open segment in bytes (default 256 KiB). */
  bufferBytes?: number;
}

/** A merged stream; `close()` releases open files and deletes temporary runs (idempotent, also done at the end). */
export interface MergeCursor extends RecordCursor {
  /** Records returned so far. */
  readonly records: number;
  close(): void;
}

/** A cursor with an optional `close()`, as {@link mergeCursors} takes. */
export type ClosableCursor = RecordCursor & { close?(): void };

/**
 * Merges sorted `segments` (each sorted by encoded key) into one sorted
 * cursor; ties go to the earlier segment.
 *
 * Intermediate passes (when `segments.length > fanIn`) run synchronously
 * before this function returns.
 *
 * @throws TsmrError `TSMR_USAGE` when `fanIn < 2`; `TSMR_CORRUPT_DATA` (from
 *   here or from `next()`) for an unreadable segment, naming its `source`;
 *   `TSMR_IO` when a temporary run cannot be written.
 */
export function mergeSegments(segments: readonly SegmentRef[], options: MergeOptions): MergeCursor {
  const { fanIn, tmpDir, bufferBytes } = options;
  if (!Number.isInteger(fanIn) || fanIn < 2) {
    throw new TsmrError(ErrorCode.USAGE, `merge fan-in must be an integer >= 2, got ${fanIn}`);
  }
  // Empty segments take no part.
  const queue: Input[] = [];
  for (const ref of segments) if (ref.length > 0 || ref.records > 0) queue.push({ ref, temporary: false });
  try {
    while (queue.length > fanIn) {
      const mod = (queue.length - 1) % (fanIn - 1);
      const k = mod === 0 ? fanIn : mod + 1;
      const at = cheapestWindow(queue, k);
      const merged = mergeToRun(queue.slice(at, at + k), tmpDir, bufferBytes);
      queue.splice(at, k, merged);
    }
  } catch (error) {
    for (const input of queue) if (input.temporary) removeQuietly(input.ref.path);
    throw error;
  }
  const temporaries = queue.filter((i) => i.temporary).map((i) => i.ref.path);
  const cursors = queue.map((i) => openSegment(i.ref, { bufferBytes }));
  return new TournamentMerge(cursors, () => {
    for (const path of temporaries) removeQuietly(path);
  });
}

/**
 * Merges already open sorted cursors (ties go to the earlier cursor). Closes
 * each input when it is exhausted, and all of them on `close()`.
 */
export function mergeCursors(cursors: readonly ClosableCursor[]): MergeCursor {
  return new TournamentMerge(cursors, undefined);
}

/**
 * The plan of intermediate passes for segments of the given sizes: each step
 * lists `[start, count]` of the adjacent inputs it merges into one, in order.
 * Exposed for tests; {@link mergeSegments} follows the same plan.
 */
export function planMergePasses(sizes: readonly number[], fanIn: number): Array<[number, number]> {
  const queue: Input[] = sizes.map((length) => ({
    ref: { path: '', offset: 0, length, records: 1, crc32: 0, source: '' },
    temporary: false,
  }));
  const steps: Array<[number, number]> = [];
  while (queue.length > fanIn) {
    const mod = (queue.length - 1) % (fanIn - 1);
    const k = mod === 0 ? fanIn : mod + 1;
    const at = cheapestWindow(queue, k);
    let length = 0;
    for (let i = at; i < at + k; i++) length += queue[i].ref.length;
    queue.splice(at, k, { ref: { ...queue[at].ref, length }, temporary: true });
    steps.push([at, k]);
  }
  return steps;
}

interface Input {
  ref: SegmentRef;
  /** A run file written by an intermediate pass, deleted once merged. */
  temporary: boolean;
}

/** Start of the `k` adjacent inputs with the fewest bytes (the first such). */
function cheapestWindow(queue: readonly Input[], k: number): number {
  let sum = 0;
  for (let i = 0; i < k; i++) sum += queue[i].ref.length;
  let best = 0;
  let bestSum = sum;
  for (let i = k; i < queue.length; i++) {
    sum += queue[i].ref.length - queue[i - k].ref.length;
    if (sum < bestSum) {
      bestSum = sum;
      best = i - k + 1;
    }
  }
  return best;
}

let runCounter = 0;

/** Merges `inputs` into a new temporary run file and deletes the temporary inputs. */
function mergeToRun(inputs: readonly Input[], tmpDir: string, bufferBytes: number | undefined): Input {
  const path = join(
    tmpDir,
    `merge-${process.pid}-${threadId}-${++runCounter}-${randomBytes(4).toString('hex')}.run`,
  );
  const cursor = new TournamentMerge(
    inputs.map((i) => openSegment(i.ref, { bufferBytes })),
    undefined,
  );
  const writer = new RunWriter(path, 1);
  try {
    writer.appendAll(0, cursor);
  } catch (error) {
    cursor.close();
    writer.abort();
    throw error;
  }
  const [segment] = writer.close();
  for (const input of inputs) if (input.temporary) removeQuietly(input.ref.path);
  const source = [...new Set(inputs.map((i) => i.ref.source))].join('+');
  return { ref: { path, ...segment, source }, temporary: true };
}

/**
 * The k-way merge: a tournament tree of losers (Knuth, TAOCP vol. 3, 5.4.1)
 * over the cursors, ordered by (key bytes, cursor index). Replacing the
 * winner costs one comparison per level, ⌈log2 k⌉, half of a binary heap's.
 */
class TournamentMerge implements MergeCursor {
  buf: Buffer = EMPTY;
  keyStart = 0;
  keyEnd = 0;
  valueStart = 0;
  valueEnd = 0;
  records = 0;
  private readonly cursors: readonly ClosableCursor[];
  private readonly k: number;
  /** tree[0]: the winner; tree[1 … k-1]: the loser at each internal node (leaf i is node k + i). */
  private readonly tree: Int32Array;
  private readonly exhausted: Uint8Array;
  /**
   * Per cursor: its record's key bytes 0–3 and 4–7 (zero-padded, big-endian)
   * and the key's length. Most comparisons end with these, without reading
   * the buffers: equal keys of up to 8 bytes (words) too.
   */
  private readonly prefix: Uint32Array;
  private readonly prefix2: Uint32Array;
  private readonly keyLength: Uint32Array;
  private started = false;
  private finished = false;
  private readonly onClose: (() => void) | undefined;

  constructor(cursors: readonly ClosableCursor[], onClose: (() => void) | undefined) {
    this.cursors = cursors;
    this.k = cursors.length;
    this.tree = new Int32Array(Math.max(1, this.k));
    this.exhausted = new Uint8Array(this.k);
    this.prefix = new Uint32Array(this.k);
    this.prefix2 = new Uint32Array(this.k);
    this.keyLength = new Uint32Array(this.k);
    this.onClose = onClose;
  }

  next(): boolean {
    if (this.finished) return false;
    try {
      if (!this.started) {
        this.started = true;
        if (this.k === 0) {
          this.close();
          return false;
        }
        for (let i = 0; i < this.k; i++) this.advance(i);
        this.tree[0] = this.build(1);
      } else {
        const winner = this.tree[0];
        this.advance(winner);
        this.replay(winner);
      }
    } catch (error) {
      this.close();
      throw error;
    }
    const top = this.tree[0];
    if (this.exhausted[top] === 1) {
      this.close();
      return false;
    }
    const c = this.cursors[top];
    this.buf = c.buf;
    this.keyStart = c.keyStart;
    this.keyEnd = c.keyEnd;
    this.valueStart = c.valueStart;
    this.valueEnd = c.valueEnd;
    this.records++;
    return true;
  }

  close(): void {
    if (this.finished) return;
    this.finished = true;
    for (const c of this.cursors) c.close?.();
    this.onClose?.();
  }

  /** Moves cursor `i` to its next record, or marks it exhausted (and closes it). */
  private advance(i: number): void {
    const c = this.cursors[i];
    if (!c.next()) {
      this.exhausted[i] = 1;
      c.close?.();
      return;
    }
    const b = c.buf;
    const s = c.keyStart;
    const n = c.keyEnd - s;
    this.prefix[i] = word(b, s, n);
    this.prefix2[i] = n > 4 ? word(b, s + 4, n - 4) : 0;
    this.keyLength[i] = n;
  }

  /** Plays the subtree at `node`; stores its losers and returns its winner. */
  private build(node: number): number {
    if (node >= this.k) return node - this.k;
    const a = this.build(2 * node);
    const b = this.build(2 * node + 1);
    if (this.less(a, b)) {
      this.tree[node] = b;
      return a;
    }
    this.tree[node] = a;
    return b;
  }

  /** Replays the matches from leaf `i` up to the root after cursor `i` moved. */
  private replay(i: number): void {
    const tree = this.tree;
    let winner = i;
    for (let node = (i + this.k) >> 1; node > 0; node >>= 1) {
      const other = tree[node];
      if (this.less(other, winner)) {
        tree[node] = winner;
        winner = other;
      }
    }
    tree[0] = winner;
  }

  /** True when cursor `a`'s record goes before cursor `b`'s (an exhausted cursor goes last). */
  private less(a: number, b: number): boolean {
    if (this.exhausted[a] === 1) return false;
    if (this.exhausted[b] === 1) return true;
    const pa = this.prefix[a];
    const pb = this.prefix[b];
    if (pa !== pb) return pa < pb;
    const qa = this.prefix2[a];
    const qb = this.prefix2[b];
    if (qa !== qb) return qa < qb;
    const la = this.keyLength[a];
    const lb = this.keyLength[b];
    let d: number;
    if (la <= 8 || lb <= 8) {
      // The first 8 bytes (zero-padded) are equal: the shorter key is a prefix of the other.
      d = la - lb;
    } else {
      const x = this.cursors[a];
      const y = this.cursors[b];
      d = compareKeyRange(x.buf, x.keyStart + 8, x.keyEnd, y.buf, y.keyStart + 8, y.keyEnd);
    }
    return d < 0 || (d === 0 && a < b);
  }
}

/** Bytes `b[s, s + min(n, 4))` as a big-endian 32-bit word, zero-padded. */
function word(b: Buffer, s: number, n: number): number {
  return n >= 4
    ? ((b[s] << 24) | (b[s + 1] << 16) | (b[s + 2] << 8) | b[s + 3]) >>> 0
    : n === 3
      ? ((b[s] << 24) | (b[s + 1] << 16) | (b[s + 2] << 8)) >>> 0
      : n === 2
        ? ((b[s] << 24) | (b[s + 1] << 16)) >>> 0
        : n === 1
          ? (b[s] << 24) >>> 0
          : 0;
}

const EMPTY = Buffer.alloc(0);
