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
    this.buf.set(start === 0 && end === src.length ? src : src.subarray(start, end), this.pos);
    this.pos += n;
  }

  /** Writes `s` as UTF-8 (or `latin1`). */
  string(s: string, encoding: 'utf8' | 'latin1' = 'utf8'): void {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    this.ensure(encoding === 'latin1' ? s.length : s.length * 3);
    this.pos += this.buf.write(s, this.pos, encoding);
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
