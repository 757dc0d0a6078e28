/**
 * The keys of a map-side table (`key-index.ts`) in (partition, key) order,
 * their encodings copied one after the other in that order, so that writing
 * the table out reads its keys in sequence.
 *
 * Why: a table's entry ids are given in order of first use, which keeps the
 * frequent keys' entries together for the emits, but makes a write in key
 * order jump through the key arena and the entry metadata at random: on word
 * count over the bench corpus (393 k distinct words per 64 MiB split) the
 * write of a kept fold table took 160–170 ms in key order through the arena
 * against 50 ms for the same records read in sequence. (Renumbering the ids
 * in key order instead made the emits 15–30% slower: the frequent keys'
 * values were no longer together.) A fold table passed from task to task
 * (`FoldTableCache`) is laid out once, and each later task merges only the
 * keys it added (the old layout read in sequence too).
 *
 * Memory: the key bytes a second time, plus 8 bytes per key (id and start).
 */
import { copyBytes } from './byte-writer.ts';
import { compareKeyRange } from './key-codec.ts';

export interface SortedKeys {
  /** Entry ids in (partition, key) order. */
  readonly ids: Uint32Array;
  /** The key of `ids[j]` is `bytes[starts[j], starts[j + 1])` (`ids.length + 1` offsets). */
  readonly starts: Uint32Array;
  readonly bytes: Buffer;
  /** The keys of partition `p` are at positions `[partitionStarts[p], partitionStarts[p + 1])`. */
  readonly partitionStarts: Uint32Array;
}

/** No keys, in `numPartitions` partitions. */
export function noSortedKeys(numPartitions: number): SortedKeys {
  return {
    ids: new Uint32Array(0),
    starts: new Uint32Array(1),
    bytes: Buffer.alloc(0),
    partitionStarts: new Uint32Array(numPartitions + 1),
  };
}

/**
 * `old` with the keys of `added` merged in.
 * @param added ids of keys not in `old`, in (partition, key) order; entry
 *   `id`'s partition is `meta[3·id]` and its key `arena[meta[3·id + 1], meta[3·id + 2])`.
 */
export function mergeSortedKeys(
  old: SortedKeys,
  added: Uint32Array,
  meta: Uint32Array,
  arena: Buffer,
  numPartitions: number,
): SortedKeys {
  const n = old.ids.length + added.length;
  let size = old.starts[old.ids.length];
  for (let j = 0; j < added.length; j++) size += meta[3 * added[j] + 2] - meta[3 * added[j] + 1];
  const ids = new Uint32Array(n);
  const starts = new Uint32Array(n + 1);
  const bytes = Buffer.allocUnsafe(size);
  const partitionStarts = new Uint32Array(numPartitions + 1);
  const { ids: oldIds, starts: oldStarts, bytes: oldBytes, partitionStarts: oldPartitions } = old;
  let k = 0; // next position
  let pos = 0; // next byte
  let j = 0; // next added key
  const take = (id: number, src: Buffer, s: number, e: number): void => {
    ids[k] = id;
    starts[k] = pos;
    copyBytes(src, s, e, bytes, pos);
    pos += e - s;
    k++;
  };
  for (let p = 0; p < numPartitions; p++) {
    partitionStarts[p] = k;
    const end = oldPartitions[p + 1];
    for (let i = oldPartitions[p]; i < end; i++) {
      // Added keys of this partition that go before old key i.
      while (j < added.length && meta[3 * added[j]] === p) {
        const a = added[j];
        const as = meta[3 * a + 1];
        const ae = meta[3 * a + 2];
        if (compareKeyRange(arena, as, ae, oldBytes, oldStarts[i], oldStarts[i + 1]) > 0) break;
        take(a, arena, as, ae);
        j++;
      }
      take(oldIds[i], oldBytes, oldStarts[i], oldStarts[i + 1]);
    }
    for (; j < added.length && meta[3 * added[j]] === p; j++) {
      const a = added[j];
      take(a, arena, meta[3 * a + 1], meta[3 * a + 2]);
    }
  }
  starts[n] = pos;
  partitionStarts[numPartitions] = n;
  return { ids, starts, bytes, partitionStarts };
}
