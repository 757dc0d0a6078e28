/**
 * A hash table from string keys, as bytes, to entry ids, beside the string
 * table of a {@link KeyIndex} (`key-index.ts`): the lookup of
 * `MapContext.emitText`, which hashes and compares the key's bytes where
 * they lie, so that a known key costs no string.
 *
 * A key here is the WTF-8 body of a string key (its encoding after the tag
 * byte, `text-bytes.ts`). Each slot is four int32s, one quarter of a cache
 * line: the body's hash, the id + 1 (0 = empty slot), and the body's head:
 * its length (up to 255) and first 7 bytes ({@link bodyKey}). A body of up to 7 bytes (most words) is compared within its slot;
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
   * @param h its hash, `head0`, `head1` its head (see {@link bodyKey}).
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
      if (end - start <= HEAD_BYTES || tailEquals(body, start, end, arena, meta, e - 1)) return e - 1;
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
 * Whether the body `body[start, end)`, longer than {@link HEAD_BYTES}, ends
 * as entry `id`'s in `arena` (whose heads are equal).
 */
function tailEquals(
  body: Uint8Array,
  start: number,
  end: number,
  arena: Uint8Array,
  meta: Uint32Array,
  id: number,
): boolean {
  const n = end - start;
  // The arena holds the tag byte, then the body.
  const ks = meta[3 * id + 1] + 1;
  if (meta[3 * id + 2] - ks !== n) return false;
  let k = HEAD_BYTES;
  while (k < n && arena[ks + k] === body[start + k]) k++;
  return k === n;
}

/**
 * What a lookup needs of a body `b[start, end)`, written to {@link BODY_KEY}:
 * `[hash, head0, head1]`. The head is the body's length (at most 255) and
 * bytes 0–2 in `head0`, bytes 3–6 in `head1` (zero past the end): it tells
 * bodies of up to {@link HEAD_BYTES} bytes apart. The hash mixes the head
 * and, for a longer body, FNV-1a over the rest, finished with MurmurHash3's
 * `fmix32`; process-local, never written. Built without a branch per byte
 * for short bodies (words), whose lengths vary from one call to the next.
 * @returns whether a byte of the body is `>= 0x80` (not ASCII).
 */
export function bodyKey(b: Uint8Array, start: number, end: number): boolean {
  if (start + HEAD_BYTES > b.length) return bodyKeyNearEnd(b, start, end);
  const n = end - start;
  const m = n < HEAD_BYTES ? n : HEAD_BYTES;
  // Read all 7 bytes and mask off those past the end: no branch on the length.
  const head0 =
    ((n < 255 ? n : 255) | (b[start] << 8) | (b[start + 1] << 16) | (b[start + 2] << 24)) & HEAD0_MASK[m];
  const head1 =
    (b[start + 3] | (b[start + 4] << 8) | (b[start + 5] << 16) | (b[start + 6] << 24)) & HEAD1_MASK[m];
  return finishBodyKey(b, start, end, head0, head1);
}

/** {@link bodyKey} of a body that starts less than {@link HEAD_BYTES} bytes before the end of `b`. */
function bodyKeyNearEnd(b: Uint8Array, start: number, end: number): boolean {
  const n = end - start;
  let head0 = n < 255 ? n : 255;
  let head1 = 0;
  for (let k = 0; k < n && k < HEAD_BYTES; k++) {
    if (k < 3) head0 |= b[start + k] << (8 * k + 8);
    else head1 |= b[start + k] << (8 * (k - 3));
  }
  return finishBodyKey(b, start, end, head0, head1);
}

/** The hash of {@link bodyKey}, from the head and the bytes past it; writes {@link BODY_KEY}. */
function finishBodyKey(b: Uint8Array, start: number, end: number, head0: number, head1: number): boolean {
  let high = (head0 >>> 8) | head1;
  let h = Math.imul(head0, 0x9e3779b1) ^ Math.imul(head1 ^ 0x7f4a7c15, 0x85ebca77);
  for (let i = start + HEAD_BYTES; i < end; i++) {
    const c = b[i];
    high |= c;
    h = Math.imul(h ^ c, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  BODY_KEY[0] = h ^ (h >>> 16);
  BODY_KEY[1] = head0;
  BODY_KEY[2] = head1;
  return (high & 0x80808080) !== 0;
}

/** Per body length up to {@link HEAD_BYTES}: the bits of `head0` and `head1` it fills. */
const HEAD0_MASK = Int32Array.of(0xff, 0xffff, 0xffffff, -1, -1, -1, -1, -1);
const HEAD1_MASK = Int32Array.of(0, 0, 0, 0, 0xff, 0xffff, 0xffffff, -1);

/** `[hash, head0, head1]` of the body {@link bodyKey} last saw. */
export const BODY_KEY = new Int32Array(3);
