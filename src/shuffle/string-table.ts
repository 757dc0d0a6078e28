/**
 * A hash table from strings to entry ids (non-negative integers), for the
 * map-side tables' string keys (`key-index.ts`): the lookup of every emit.
 *
 * Why not a `Map<string, number>`: on word count over the benchmark corpus
 * (7.2 M words, 390 k distinct per 64 MiB split) a `Map` lookup costs about
 * twice this table's. Open addressing keeps each slot's hash and id side by
 * side in one `Int32Array` (one cache line per probe, no pointer to chase until
 * the hash matches), the hash is computed in JS while the string is hot, and
 * the strings are kept by id: ids are given in order of first use, so the
 * frequent keys' strings sit together (about 10% faster than keeping them by
 * slot).
 *
 * Slots: `slots[2i]` = hash, `slots[2i + 1]` = id + 1 (0 = empty); `keys[id]`
 * = the string; linear probing; the table doubles when it is half full. Hash: FNV-1a over the
 * UTF-16 code units, finished with MurmurHash3's `fmix32` so that the low bits
 * used for the slot index depend on every character. This is a process-local
 * hash, never written anywhere (partitions use xxHash64 of the encoded key,
 * `partitioner.ts`).
 *
 * Memory: 8 bytes per slot (16 to 32 bytes per string at load 1/4 to 1/2)
 * plus 8 per id, besides the strings themselves.
 */

const INITIAL_SLOTS = 1024;

export class StringTable {
  /** Strings held. */
  size = 0;
  private mask = INITIAL_SLOTS - 1;
  private slots = new Int32Array(2 * INITIAL_SLOTS);
  /** Per id: its string ('' for ids not in the table). */
  private readonly keys: string[] = [];

  /** The id of `key`, or -1. */
  get(key: string): number {
    const h = stringHash(key);
    const slots = this.slots;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const e = slots[2 * i + 1];
      if (e === 0) return -1;
      if (slots[2 * i] === h && this.keys[e - 1] === key) return e - 1;
    }
  }

  /** Maps `key` to `id` (≥ 0). Neither `key` nor `id` may be in the table already. */
  set(key: string, id: number): void {
    const keys = this.keys;
    while (keys.length < id) keys.push('');
    keys[id] = key;
    this.size++;
    if (2 * this.size > this.mask + 1) this.grow();
    this.place(stringHash(key), id + 1);
  }

  private place(h: number, e: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = h & mask;
    while (slots[2 * i + 1] !== 0) i = (i + 1) & mask;
    slots[2 * i] = h;
    slots[2 * i + 1] = e;
  }

  /** Doubles the slot array and places every entry again (their hashes are in the old slots). */
  private grow(): void {
    const old = this.slots;
    const n = 2 * (this.mask + 1);
    this.slots = new Int32Array(2 * n);
    this.mask = n - 1;
    for (let i = 0; i < old.length; i += 2) if (old[i + 1] !== 0) this.place(old[i], old[i + 1]);
  }
}

/** FNV-1a (32-bit) of the UTF-16 code units of `s`, then MurmurHash3's `fmix32`. */
export function stringHash(s: string): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
