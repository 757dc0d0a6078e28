import { writeWtf8 } from './wtf8.ts';

/** Below this many bytes or characters, JS loops are faster than native calls. */
const SHORT = 32;

/**
 * A growable byte buffer written front to back. The encoders of keys, values
 * and records write into one of these so that the hot path allocates nothing
 * per record.
 */
export class ByteWriter {
  buf: Buffer;
  pos = 0;

  /** @param capacity initial size in bytes (default 64 KiB). */
  constructor(capacity = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  /** Makes room for `n` more bytes (grows by doubling). */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  bytes(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    this.ensure(n);
    copyBytes(src, start, end, this.buf, this.pos);
    this.pos += n;
  }

  /**
   * Writes `s` as UTF-8 (or `latin1`). Lone surrogates become U+FFFD in UTF-8:
   * for text meant to be read back as the same string, use {@link wtf8}.
   */
  string(s: string, encoding: 'utf8' | 'latin1' = 'utf8'): void {
    const n = s.length;
    if (encoding === 'latin1') {
      this.ensure(n);
      this.pos += this.buf.write(s, this.pos, 'latin1');
      return;
    }
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    this.ensure(n * 3);
    if (n <= SHORT && this.asciiPrefix(s) === n) {
      this.pos += n;
      return;
    }
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /**
   * Writes `s` as WTF-8 (`wtf8.ts`): UTF-8 for a well-formed string, each
   * lone surrogate as its own 3-byte sequence, so every string reads back as
   * itself. Short ASCII strings take the same JS loop as {@link string}; other
   * short strings without surrogates and long well-formed strings the native
   * UTF-8 write (a JS scan of a short string costs less than `isWellFormed`).
   * @returns whether `s` is well formed (its bytes are then plain UTF-8).
   */
  wtf8(s: string): boolean {
    const n = s.length;
    this.ensure(n * 3);
    if (n <= SHORT) {
      let i = this.asciiPrefix(s);
      if (i === n) {
        this.pos += n;
        return true;
      }
      while (i < n && (s.charCodeAt(i) & 0xf800) !== 0xd800) i++;
      if (i === n) {
        this.pos += this.buf.write(s, this.pos, 'utf8');
        return true;
      }
    }
    if (s.isWellFormed()) {
      this.pos += this.buf.write(s, this.pos, 'utf8');
      return true;
    }
    this.pos = writeWtf8(this.buf, this.pos, s);
    return false;
  }

  /**
   * Copies the ASCII prefix of `s` (at most {@link SHORT} code units, room
   * ensured) to `buf[pos, …)`, without moving `pos`: for short strings a JS
   * loop beats the native call (about 2x for words).
   * @returns the length of the prefix (`s.length` when `s` is ASCII).
   */
  private asciiPrefix(s: string): number {
    const buf = this.buf;
    const p = this.pos;
    let i = 0;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[p + i] = c;
    }
    return i;
  }

  /** Unsigned LEB128 varint, for lengths up to 2^53. */
  varint(n: number): void {
    this.ensure(8);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.pos++] = n;
  }

  /** The written bytes (a view, valid until the next write or reset). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  reset(): void {
    this.pos = 0;
  }
}

/**
 * Reads an unsigned LEB128 varint at `pos`.
 * @returns the value; the position after it is written to `out[0]`.
 * @throws RangeError when the varint runs past `end`.
 */
export function readVarint(buf: Uint8Array, pos: number, end: number, out: number[]): number {
  let result = 0;
  let scale = 1;
  for (;;) {
    if (pos >= end) throw new RangeError('varint runs past the end of the buffer');
    const b = buf[pos++];
    result += (b & 0x7f) * scale;
    if (b < 0x80) break;
    scale *= 0x80;
  }
  out[0] = pos;
  return result;
}

/**
 * Copies `src[start, end)` to `dst` at `pos` (no allocation for short ranges;
 * the ranges must not overlap unless `src !== dst`).
 */
export function copyBytes(src: Uint8Array, start: number, end: number, dst: Uint8Array, pos: number): void {
  const n = end - start;
  if (n <= SHORT) {
    for (let i = 0; i < n; i++) dst[pos + i] = src[start + i];
  } else {
    dst.set(start === 0 && end === src.length ? src : src.subarray(start, end), pos);
  }
}

/** A new Uint8Array of `buf[start, end)`, made without a view (short ones by a loop: V8 keeps them on its heap). */
export function copyOut(buf: Uint8Array, start: number, end: number): Uint8Array {
  const n = end - start;
  const out = new Uint8Array(n);
  if (n <= 64) for (let i = 0; i < n; i++) out[i] = buf[start + i];
  else out.set(buf.subarray(start, end));
  return out;
}
