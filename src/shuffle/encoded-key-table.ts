/**
 * A hash table from string keys, as bytes, to entry ids, beside the string
 * table of a {@link KeyIndex} (`key-index.ts`): the lookup of
 * `MapContext.emitText`, which hashes and compares the key's bytes where
 * they lie, so that a known key costs no string.
 *
 * A key here is the WTF-8 body of a string key (its encoding after the tag
 * byte, `text-bytes.ts`). Each slot is four int32s, one quarter of a cache
 * line: the body's hash (`encodedKeyHash` of the whole encoding), the id + 1
 * (0 = empty slot), and the body's head: its length (up to 255) and first 7
 * bytes. A body of up to 7 bytes (most words) is compared within its slot;
 * a longer one's tail against the key index's arena, where entry `id`'s
 * encoding is `arena[meta[3·id + 1], meta[3·id + 2])`. So a lookup of a
 * known word usually touches one cache line, where a string table touches
 * its slot, its id's string and the string's characters. Linear probing;
 * the table doubles when half full. Memory: 16 bytes per slot (32 to 64 per
 * key).
 */

const INITIAL_SLOTS = 1024;
/** Body bytes held in a slot. */
export const HEAD_BYTES = 7;

export class EncodedKeyTable {
  /** Entries held. */
  size = 0;
  private mask = INITIAL_SLOTS - 1;
  private slots = new Int32Array(4 * INITIAL_SLOTS);

  /**
   * The id of the string key whose body is `body[start, end)`, or -1.
   * @param h the hash of its encoding; `head0`, `head1`: its {@link bodyHead}.
   */
  stringId(
    h: number,
    head0: number,
    head1: number,
    body: Uint8Array,
    start: number,
    end: number,
    arena: Uint8Array,
    meta: Uint32Array,
  ): number {
    const slots = this.slots;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const e = slots[4 * i + 1];
      if (e === 0) return -1;
      if (slots[4 * i] !== h || slots[4 * i + 2] !== head0 || slots[4 * i + 3] !== head1) continue;
      const n = end - start;
      if (n <= HEAD_BYTES) return e - 1;
      // Compare the tail; the arena holds the tag byte, then the body.
      const ks = meta[3 * (e - 1) + 1] + 1;
      if (meta[3 * (e - 1) + 2] - ks !== n) continue;
      let k = HEAD_BYTES;
      while (k < n && arena[ks + k] === body[start + k]) k++;
      if (k === n) return e - 1;
    }
  }

  /** Adds entry `id` (not in the table yet) with its hash and head, as {@link stringId} takes them. */
  add(h: number, head0: number, head1: number, id: number): void {
    this.size++;
    if (2 * this.size > this.mask + 1) this.grow();
    this.place(h, id + 1, head0, head1);
  }

  private place(h: number, e: number, head0: number, head1: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = h & mask;
    while (slots[4 * i + 1] !== 0) i = (i + 1) & mask;
    slots[4 * i] = h;
    slots[4 * i + 1] = e;
    slots[4 * i + 2] = head0;
    slots[4 * i + 3] = head1;
  }

  private grow(): void {
    const old = this.slots;
    const n = 2 * (this.mask + 1);
    this.slots = new Int32Array(4 * n);
    this.mask = n - 1;
    for (let i = 0; i < old.length; i += 4)
      if (old[i + 1] !== 0) this.place(old[i], old[i + 1], old[i + 2], old[i + 3]);
  }
}

/**
 * The first int32 of the head of body `b[start, end)`: its length (at most
 * 255) and bytes 0–2 (zero past the end). The head tells bodies of up to
 * {@link HEAD_BYTES} bytes apart.
 */
export function bodyHead0(b: Uint8Array, start: number, end: number): number {
  const n = end - start;
  let x = n < 255 ? n : 255;
  if (n > 0) x |= b[start] << 8;
  if (n > 1) x |= b[start + 1] << 16;
  if (n > 2) x |= b[start + 2] << 24;
  return x;
}

/** The second int32 of the head of body `b[start, end)`: bytes 3–6 (zero past the end). */
export function bodyHead1(b: Uint8Array, start: number, end: number): number {
  const n = end - start;
  let x = 0;
  if (n > 3) x = b[start + 3];
  if (n > 4) x |= b[start + 4] << 8;
  if (n > 5) x |= b[start + 5] << 16;
  if (n > 6) x |= b[start + 6] << 24;
  return x;
}
