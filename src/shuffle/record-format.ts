/**
 * Record framing of spills, map output segments and merge runs:
 *
 * ```
 * varint(keyLength) varint(valueLength) keyBytes valueBytes
 * ```
 *
 * with unsigned LEB128 varints (at most 8 bytes, lengths below 2^53). Key bytes
 * are an encoded key (`key-codec.ts`), value bytes an encoded value
 * (`value-codec.ts`). A run of records carries no header and no count: its
 * length, record count and CRC-32 live in the map output index.
 *
 * Readers of framed records (segment reader, merger, grouper) share the
 * {@link RecordCursor} interface, which exposes the current record as byte
 * ranges of a buffer so that nothing is copied or decoded unless needed.
 */
import { ErrorCode, TsmrError } from '../errors.ts';
import { copyBytes } from './byte-writer.ts';
import type { ByteWriter } from './byte-writer.ts';

/**
 * A forward-only cursor over framed records.
 *
 * After `next()` returns true, the current record's key is
 * `buf[keyStart, keyEnd)` and its value `buf[valueStart, valueEnd)`. These
 * fields and the buffer's bytes are valid until the next call of `next()`.
 * After `next()` returns false the cursor is exhausted and stays so.
 */
export interface RecordCursor {
  next(): boolean;
  readonly buf: Buffer;
  readonly keyStart: number;
  readonly keyEnd: number;
  readonly valueStart: number;
  readonly valueEnd: number;
}

/** Longest varint accepted (8 bytes carry 56 bits, enough for lengths below 2^53). */
export const MAX_VARINT_BYTES = 8;

/** Bytes needed for the varint of `n`. */
export function varintLength(n: number): number {
  let bytes = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    bytes++;
  }
  return bytes;
}

/** Bytes of the frame of a record with these key and value lengths. */
export function frameLength(keyLength: number, valueLength: number): number {
  return varintLength(keyLength) + varintLength(valueLength) + keyLength + valueLength;
}

/**
 * Appends one framed record to `w`: key `keyBuf[keyStart, keyEnd)`, value
 * `valueBuf[valueStart, valueEnd)`.
 */
export function writeRecord(
  w: ByteWriter,
  keyBuf: Uint8Array,
  keyStart: number,
  keyEnd: number,
  valueBuf: Uint8Array,
  valueStart: number,
  valueEnd: number,
): void {
  const kl = keyEnd - keyStart;
  const vl = valueEnd - valueStart;
  w.ensure(2 * MAX_VARINT_BYTES + kl + vl);
  const buf = w.buf;
  let p = w.pos;
  if (kl < 0x80) buf[p++] = kl;
  else p = putVarint(buf, p, kl);
  if (vl < 0x80) buf[p++] = vl;
  else p = putVarint(buf, p, vl);
  copyBytes(keyBuf, keyStart, keyEnd, buf, p);
  p += kl;
  copyBytes(valueBuf, valueStart, valueEnd, buf, p);
  w.pos = p + vl;
}

function putVarint(buf: Buffer, p: number, n: number): number {
  while (n >= 0x80) {
    buf[p++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  buf[p++] = n;
  return p;
}

/**
 * Where {@link parseFrame} puts the record it parsed: key start, key end
 * (= value start) and value end, as absolute buffer positions.
 */
export interface FrameBounds {
  keyStart: number;
  keyEnd: number;
  valueEnd: number;
}

/** {@link parseFrame} result: the frame is not complete in `buf[pos, end)`. */
export const INCOMPLETE = -1;

/**
 * Parses the frame at `buf[pos]`, looking no further than `end`.
 *
 * @returns the position after the frame (its bounds are written to `out`), or
 *   {@link INCOMPLETE} when `buf[pos, end)` holds only part of the frame; in
 *   that case `out.valueEnd` is the frame's end when its header was complete
 *   (so the caller knows how much to read), else `-1`.
 * @throws TsmrError `TSMR_CORRUPT_DATA` for a varint longer than 8 bytes.
 */
export function parseFrame(buf: Buffer, pos: number, end: number, out: FrameBounds): number {
  let p = pos;
  let kl: number;
  let vl: number;
  // Key length.
  if (p >= end) return incomplete(out);
  let b = buf[p++];
  if (b < 0x80) {
    kl = b;
  } else {
    let scale = 1;
    kl = b & 0x7f;
    for (let i = 1; ; i++) {
      if (i >= MAX_VARINT_BYTES) throw badVarint();
      if (p >= end) return incomplete(out);
      b = buf[p++];
      scale *= 0x80;
      kl += (b & 0x7f) * scale;
      if (b < 0x80) break;
    }
  }
  // Value length.
  if (p >= end) return incomplete(out);
  b = buf[p++];
  if (b < 0x80) {
    vl = b;
  } else {
    let scale = 1;
    vl = b & 0x7f;
    for (let i = 1; ; i++) {
      if (i >= MAX_VARINT_BYTES) throw badVarint();
      if (p >= end) return incomplete(out);
      b = buf[p++];
      scale *= 0x80;
      vl += (b & 0x7f) * scale;
      if (b < 0x80) break;
    }
  }
  const valueEnd = p + kl + vl;
  out.keyStart = p;
  out.keyEnd = p + kl;
  out.valueEnd = valueEnd;
  if (valueEnd > end) return INCOMPLETE;
  return valueEnd;
}

function incomplete(out: FrameBounds): number {
  out.valueEnd = -1;
  return INCOMPLETE;
}

function badVarint(): TsmrError {
  return new TsmrError(ErrorCode.CORRUPT_DATA, 'corrupt record framing: varint longer than 8 bytes');
}

/**
 * A {@link RecordCursor} over framed records held in memory, `buf[start, end)`.
 * @throws TsmrError `TSMR_CORRUPT_DATA` from `next()` when the last frame is cut short.
 */
export class BufferRecordCursor implements RecordCursor {
  readonly buf: Buffer;
  keyStart = 0;
  keyEnd = 0;
  valueStart = 0;
  valueEnd = 0;
  /** Records returned so far. */
  records = 0;
  private pos: number;
  private readonly end: number;
  private readonly bounds: FrameBounds = { keyStart: 0, keyEnd: 0, valueEnd: 0 };

  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  next(): boolean {
    if (this.pos >= this.end) return false;
    const after = parseFrame(this.buf, this.pos, this.end, this.bounds);
    if (after === INCOMPLETE) {
      this.pos = this.end;
      throw new TsmrError(ErrorCode.CORRUPT_DATA, 'corrupt record framing: the last record is cut short');
    }
    this.keyStart = this.bounds.keyStart;
    this.keyEnd = this.valueStart = this.bounds.keyEnd;
    this.valueEnd = after;
    this.pos = after;
    this.records++;
    return true;
  }
}
