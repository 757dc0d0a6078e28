/**
 * Order-preserving binary encoding of keys.
 *
 * The sort order of keys is the unsigned byte order of their encodings
 * (`Buffer.compare`), identical on every machine and Node version (DESIGN.md §2).
 * The layout follows the FoundationDB tuple layer: a type tag, then a body.
 *
 * | tag  | type        | body                                                        |
 * | ---- | ----------- | ----------------------------------------------------------- |
 * | 0x00 | (end)       | terminates an array                                         |
 * | 0x01 | null        | —                                                           |
 * | 0x02 | false       | —                                                           |
 * | 0x03 | true        | —                                                           |
 * | 0x04 | number      | 8 bytes: IEEE-754 big-endian, sign bit flipped (negatives: all bits flipped); `-0` → `0`, one NaN after `+Infinity` |
 * | 0x05 | bigint < 0  | 4-byte complemented byte length, complemented magnitude     |
 * | 0x06 | bigint >= 0 | 4-byte byte length, big-endian magnitude                    |
 * | 0x07 | string      | WTF-8 bytes (`wtf8.ts`): UTF-8, lone surrogates kept        |
 * | 0x08 | Uint8Array  | the bytes                                                   |
 * | 0x09 | array       | each element encoded as nested, then 0x00                   |
 *
 * At top level a string's or byte array's body runs to the end of the key, so
 * the common case (a string key) costs one tag byte. Nested inside an array, a
 * string or byte body escapes `0x00` as `0x00 0xFF` and ends with `0x00`, which
 * keeps prefixes first. Well-formed strings therefore order by UTF-8 bytes
 * (code point order), as `LC_ALL=C sort` does. A lone UTF-16 surrogate is
 * encoded as the 3-byte WTF-8 sequence of its code unit (`ED A0 80` …
 * `ED BF BF`), so every distinct JS string is a distinct key and decodes back
 * as itself; lone surrogates sort by code unit between U+D7FF and U+E000
 * (before U+E000–U+FFFF and the supplementary code points).
 */
import { ErrorCode, TsmrError } from '../errors.ts';
import type { Key } from '../api/types.ts';
import { ByteWriter, copyOut } from './byte-writer.ts';
import { readWtf8 } from './wtf8.ts';

export const KeyTag = {
  END: 0x00,
  NULL: 0x01,
  FALSE: 0x02,
  TRUE: 0x03,
  NUMBER: 0x04,
  NEG_BIGINT: 0x05,
  POS_BIGINT: 0x06,
  STRING: 0x07,
  BYTES: 0x08,
  ARRAY: 0x09,
} as const;

/** Deepest array nesting of a key (the top level is depth 0). */
const MAX_DEPTH = 64;

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Appends the encoding of `key` to `w`. @throws TsmrError `TSMR_BAD_KEY` for an unsupported key. */
export function writeKey(w: ByteWriter, key: Key): void {
  if (typeof key === 'string') {
    w.byte(KeyTag.STRING);
    w.wtf8(key);
  } else if (key instanceof Uint8Array) {
    w.byte(KeyTag.BYTES);
    w.bytes(key);
  } else {
    writeNested(w, key, 0);
  }
}

function writeNested(w: ByteWriter, key: Key, depth: number): void {
  switch (typeof key) {
    case 'string': {
      w.byte(KeyTag.STRING);
      const start = w.pos;
      w.wtf8(key);
      escapeZeros(w, start);
      return;
    }
    case 'number':
      writeNumber(w, key);
      return;
    case 'boolean':
      w.byte(key ? KeyTag.TRUE : KeyTag.FALSE);
      return;
    case 'bigint':
      writeBigint(w, key);
      return;
    case 'object':
      if (key === null) {
        w.byte(KeyTag.NULL);
        return;
      }
      if (key instanceof Uint8Array) {
        w.byte(KeyTag.BYTES);
        const start = w.pos;
        w.bytes(key);
        escapeZeros(w, start);
        return;
      }
      if (Array.isArray(key)) {
        if (depth >= MAX_DEPTH) {
          throw new TsmrError(ErrorCode.BAD_KEY, `key arrays may be nested at most ${MAX_DEPTH} deep`);
        }
        w.byte(KeyTag.ARRAY);
        for (const element of key as readonly Key[]) writeNested(w, element, depth + 1);
        w.byte(KeyTag.END);
        return;
      }
  }
  throw new TsmrError(
    ErrorCode.BAD_KEY,
    `unsupported key ${describe(key)}: keys are string, number, bigint, boolean, null, Uint8Array or arrays of these`,
  );
}

/** Escapes 0x00 → 0x00 0xFF in `w.buf[start, w.pos)` and appends the 0x00 terminator. */
function escapeZeros(w: ByteWriter, start: number): void {
  let zeros = 0;
  for (let i = start; i < w.pos; i++) if (w.buf[i] === 0) zeros++;
  if (zeros > 0) {
    w.ensure(zeros);
    const buf = w.buf;
    let src = w.pos - 1;
    let dst = w.pos + zeros - 1;
    while (src >= start) {
      const b = buf[src--];
      if (b === 0) buf[dst--] = 0xff;
      buf[dst--] = b;
    }
    w.pos += zeros;
  }
  w.byte(KeyTag.END);
}

function writeNumber(w: ByteWriter, n: number): void {
  f64[0] = n === 0 ? 0 : Number.isNaN(n) ? Number.NaN : n;
  w.ensure(9);
  const buf = w.buf;
  buf[w.pos++] = KeyTag.NUMBER;
  const negative = (littleEndian ? f64Bytes[7] : f64Bytes[0]) >= 0x80;
  for (let i = 0; i < 8; i++) {
    const b = f64Bytes[littleEndian ? 7 - i : i];
    buf[w.pos++] = negative ? ~b & 0xff : i === 0 ? b ^ 0x80 : b;
  }
}

function writeBigint(w: ByteWriter, n: bigint): void {
  const negative = n < 0n;
  let hex = (negative ? -n : n).toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  const magnitude = n === 0n ? Buffer.alloc(0) : Buffer.from(hex, 'hex');
  w.ensure(5 + magnitude.length);
  w.buf[w.pos++] = negative ? KeyTag.NEG_BIGINT : KeyTag.POS_BIGINT;
  const length = negative ? ~magnitude.length >>> 0 : magnitude.length;
  w.buf.writeUInt32BE(length, w.pos);
  w.pos += 4;
  for (const b of magnitude) w.buf[w.pos++] = negative ? ~b & 0xff : b;
}

const scratch = new ByteWriter(256);

/** Encodes `key` into a new Buffer. */
export function encodeKey(key: Key): Buffer {
  scratch.reset();
  writeKey(scratch, key);
  return Buffer.from(scratch.view());
}

/**
 * Decodes the key in `buf[start, end)`.
 * @throws TsmrError `TSMR_CORRUPT_DATA` for bytes that are not a key encoding.
 */
export function decodeKey(buf: Uint8Array, start = 0, end = buf.length): Key {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const tag = b[start];
  if (tag === KeyTag.STRING) return readWtf8(b, start + 1, end);
  if (tag === KeyTag.BYTES) return copyOut(b, start + 1, end);
  const pos = [start];
  const key = readNested(b, pos, end, 0);
  if (pos[0] !== end) throw corrupt('trailing bytes after key');
  return key;
}

function readNested(b: Buffer, pos: number[], end: number, depth: number): Key {
  if (pos[0] >= end) throw corrupt('key ends early');
  if (depth > MAX_DEPTH) throw corrupt('arrays nested too deeply');
  const tag = b[pos[0]++];
  switch (tag) {
    case KeyTag.NULL:
      return null;
    case KeyTag.FALSE:
      return false;
    case KeyTag.TRUE:
      return true;
    case KeyTag.NUMBER: {
      if (pos[0] + 8 > end) throw corrupt('number key ends early');
      const negative = b[pos[0]] < 0x80;
      for (let i = 0; i < 8; i++) {
        const x = b[pos[0] + i];
        f64Bytes[littleEndian ? 7 - i : i] = negative ? ~x & 0xff : i === 0 ? x ^ 0x80 : x;
      }
      pos[0] += 8;
      return f64[0];
    }
    case KeyTag.NEG_BIGINT:
    case KeyTag.POS_BIGINT: {
      const negative = tag === KeyTag.NEG_BIGINT;
      if (pos[0] + 4 > end) throw corrupt('bigint key ends early');
      const raw = b.readUInt32BE(pos[0]);
      const length = negative ? ~raw >>> 0 : raw;
      pos[0] += 4;
      if (pos[0] + length > end) throw corrupt('bigint key ends early');
      let hex = '';
      for (let i = 0; i < length; i++) {
        const x = b[pos[0] + i];
        hex += (negative ? ~x & 0xff : x).toString(16).padStart(2, '0');
      }
      pos[0] += length;
      const magnitude = length === 0 ? 0n : BigInt(`0x${hex}`);
      return negative ? -magnitude : magnitude;
    }
    case KeyTag.STRING:
    case KeyTag.BYTES: {
      const bytes = readEscaped(b, pos, end);
      return tag === KeyTag.STRING ? readWtf8(bytes, 0, bytes.length) : new Uint8Array(bytes);
    }
    case KeyTag.ARRAY: {
      const out: Key[] = [];
      for (;;) {
        if (pos[0] >= end) throw corrupt('array key ends early');
        if (b[pos[0]] === KeyTag.END) {
          pos[0]++;
          return out;
        }
        out.push(readNested(b, pos, end, depth + 1));
      }
    }
    default:
      throw corrupt(`unknown key tag 0x${tag.toString(16)}`);
  }
}

function readEscaped(b: Buffer, pos: number[], end: number): Buffer {
  const start = pos[0];
  // Find the terminator: a 0x00 not followed by 0xFF. Count escapes on the way.
  let i = start;
  let escapes = 0;
  for (;;) {
    i = b.indexOf(0, i);
    if (i < 0 || i >= end) throw corrupt('string key ends early');
    if (i + 1 < end && b[i + 1] === 0xff) {
      escapes++;
      i += 2;
    } else {
      break;
    }
  }
  pos[0] = i + 1;
  if (escapes === 0) return b.subarray(start, i);
  const out = Buffer.allocUnsafe(i - start - escapes);
  let o = 0;
  for (let j = start; j < i; j++) {
    out[o++] = b[j];
    if (b[j] === 0) j++;
  }
  return out;
}

/**
 * End of the first `n` elements of the encoded tuple key `buf[start, end)`:
 * `buf[start, tuplePrefixEnd(…))` is the tag of the array and its first `n`
 * encoded elements. Keys with equal first `n` elements have equal prefix
 * bytes (so they can be hashed to one partition), and all keys with one
 * prefix are contiguous in key order (secondary sort, `groupBy`); see
 * {@link hasTuplePrefix} to test another key against a prefix without
 * parsing it. It equals `encodeKey(prefix).length - 1` (the prefix tuple without its end
 * byte) when the key is at `start = 0`. Reads only the prefix.
 *
 * @param n number of leading elements, >= 1.
 * @throws TsmrError `TSMR_BAD_KEY` when the key is not an array or has fewer
 *   than `n` elements; `TSMR_CORRUPT_DATA` for bytes that are no key encoding.
 */
export function tuplePrefixEnd(buf: Uint8Array, start: number, end: number, n: number): number {
  if (start >= end) throw corrupt('empty key');
  if (buf[start] !== KeyTag.ARRAY) {
    throw new TsmrError(
      ErrorCode.BAD_KEY,
      `the key ${formatKey(decodeKey(buf, start, end))} is not an array`,
    );
  }
  let pos = start + 1;
  for (let i = 0; i < n; i++) {
    if (pos >= end) throw corrupt('array key ends early');
    if (buf[pos] === KeyTag.END) {
      throw new TsmrError(
        ErrorCode.BAD_KEY,
        `the key ${formatKey(decodeKey(buf, start, end))} has ${i} element${i === 1 ? '' : 's'}, fewer than ${n}`,
      );
    }
    pos = elementEnd(buf, pos, end);
  }
  return pos;
}

/**
 * True when the encoded tuple key `buf[start, end)` has the first elements
 * whose encoding is `prefix[0, prefixEnd)` (as {@link tuplePrefixEnd} found it
 * in another key), without parsing `buf`: it starts with those bytes, and the
 * byte after them is not `0xFF`. (That byte is the next element's tag or the
 * array's end, never `0xFF`, in a key with this prefix; a `0xFF` there means
 * the prefix's last `0x00` was an escaped zero inside a longer string.)
 */
export function hasTuplePrefix(
  buf: Buffer,
  start: number,
  end: number,
  prefix: Buffer,
  prefixEnd: number,
): boolean {
  return (
    end - start > prefixEnd &&
    buf[start + prefixEnd] !== 0xff &&
    keyRangeEquals(buf, start, start + prefixEnd, prefix, 0, prefixEnd)
  );
}

/** End of the nested element that starts at `buf[pos]`. */
function elementEnd(buf: Uint8Array, pos: number, end: number): number {
  const tag = buf[pos++];
  switch (tag) {
    case KeyTag.NULL:
    case KeyTag.FALSE:
    case KeyTag.TRUE:
      return pos;
    case KeyTag.NUMBER:
      return pos + 8;
    case KeyTag.NEG_BIGINT:
    case KeyTag.POS_BIGINT: {
      if (pos + 4 > end) throw corrupt('bigint key ends early');
      const raw = ((buf[pos] << 24) | (buf[pos + 1] << 16) | (buf[pos + 2] << 8) | buf[pos + 3]) >>> 0;
      return pos + 4 + (tag === KeyTag.NEG_BIGINT ? ~raw >>> 0 : raw);
    }
    case KeyTag.STRING:
    case KeyTag.BYTES:
      // The terminator is a 0x00 not followed by 0xFF (an escaped 0x00).
      for (;;) {
        if (pos >= end) throw corrupt('string key ends early');
        if (buf[pos] === 0) {
          if (pos + 1 < end && buf[pos + 1] === 0xff) pos += 2;
          else return pos + 1;
        } else {
          pos++;
        }
      }
    case KeyTag.ARRAY:
      for (;;) {
        if (pos >= end) throw corrupt('array key ends early');
        if (buf[pos] === KeyTag.END) return pos + 1;
        pos = elementEnd(buf, pos, end);
      }
    default:
      throw corrupt(`unknown key tag 0x${tag.toString(16)}`);
  }
}

/** A key as a person reads it in an error message (JSON, bigints as `12n`), at most 200 characters. */
export function formatKey(key: unknown): string {
  let text: string;
  try {
    text =
      key instanceof Uint8Array
        ? `<${key.length} bytes>`
        : (JSON.stringify(key, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) ?? String(key));
  } catch {
    text = String(key);
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/**
 * Compares the encoded keys `a[as, ae)` and `b[bs, be)` without allocating:
 * negative, zero or positive like `Buffer.compare`. Short keys are compared in
 * JS (a native call costs about as much as 50 byte comparisons).
 */
export function compareKeyRange(
  a: Buffer,
  as: number,
  ae: number,
  b: Buffer,
  bs: number,
  be: number,
): number {
  const al = ae - as;
  const bl = be - bs;
  const n = al < bl ? al : bl;
  if (n > 48) return a.compare(b, bs, be, as, ae);
  for (let i = 0; i < n; i++) {
    const d = a[as + i] - b[bs + i];
    if (d !== 0) return d;
  }
  return al - bl;
}

/** True when the encoded keys `a[as, ae)` and `b[bs, be)` are equal. */
export function keyRangeEquals(
  a: Buffer,
  as: number,
  ae: number,
  b: Buffer,
  bs: number,
  be: number,
): boolean {
  const n = ae - as;
  if (n !== be - bs) return false;
  if (n > 48) return a.compare(b, bs, be, as, ae) === 0;
  for (let i = n - 1; i >= 0; i--) if (a[as + i] !== b[bs + i]) return false;
  return true;
}

function corrupt(what: string): TsmrError {
  return new TsmrError(ErrorCode.CORRUPT_DATA, `corrupt key encoding: ${what}`);
}

function describe(key: unknown): string {
  if (key === undefined) return 'undefined';
  if (typeof key === 'object') return `of type ${key?.constructor?.name ?? 'object'}`;
  return `of type ${typeof key}`;
}
