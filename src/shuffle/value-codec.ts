/**
 * Binary encoding of values. Values are framed by their record, so a body runs
 * to the end of its slice.
 *
 * | tag  | value                                                        |
 * | ---- | ------------------------------------------------------------ |
 * | 0x00 | undefined                                                    |
 * | 0x01 | null                                                         |
 * | 0x02 | false                                                        |
 * | 0x03 | true                                                         |
 * | 0x04 | integer in [0, 2^32): 1–4 bytes LE                           |
 * | 0x05 | number: 8 bytes float64 LE                                   |
 * | 0x06 | string, well-formed: UTF-8 bytes                             |
 * | 0x07 | array: its elements, each as `varint(length) encoding`       |
 * | 0x08 | plain object: per own enumerable key, `varint(length) UTF-8` then the value as `varint(length) encoding` |
 * | 0x09 | bigint: a sign byte (0: ≥ 0, 1: < 0), magnitude big-endian  |
 * | 0x0a | string with lone surrogates: WTF-8 bytes (`wtf8.ts`)         |
 * | 0x0b | Buffer: its bytes (decoded as a new Buffer)                  |
 * | 0x0c | Uint8Array: its bytes (decoded as a new Uint8Array)          |
 * | 0xff | anything else: `v8.serialize` output                         |
 *
 * The tagged paths cover the values of most jobs (numbers, strings, byte
 * arrays, and plain objects and arrays of them) without V8's structured-clone serializer, which
 * costs about a microsecond per call and leaves a Buffer behind for the GC.
 * Anything else — Map, Set, Date, other typed arrays, class instances, sparse arrays
 * or arrays with extra properties, objects reachable twice (structured clone
 * keeps that sharing), object keys with lone surrogates — makes the whole
 * value go through `v8.serialize`, so every value round-trips exactly as
 * structured clone does. A string with lone surrogates has a tag of its own,
 * so that decoding a well-formed string (0x06) costs no check for them.
 */
import { deserialize, serialize } from 'node:v8';
import { ErrorCode, TsmrError } from '../errors.ts';
import { ByteWriter, copyOut, readVarint } from './byte-writer.ts';
import { readWtf8 } from './wtf8.ts';

const STRING = 0x06;
const ARRAY = 0x07;
const OBJECT = 0x08;
const BIGINT = 0x09;
const WTF8_STRING = 0x0a;
const BUFFER = 0x0b;
const UINT8ARRAY = 0x0c;
const V8 = 0xff;
/** Deepest nesting of arrays and objects the tagged path encodes. */
const MAX_DEPTH = 32;

/** Appends the encoding of `value` to `w`. @throws TsmrError `TSMR_BAD_VALUE` when V8 cannot serialize it. */
export function writeValue(w: ByteWriter, value: unknown): void {
  switch (typeof value) {
    case 'number':
      writeNumber(w, value);
      return;
    case 'string':
      writeString(w, value);
      return;
    case 'boolean':
      w.byte(value ? 0x03 : 0x02);
      return;
    case 'undefined':
      w.byte(0x00);
      return;
    case 'bigint':
      writeBigint(w, value);
      return;
    case 'object': {
      if (value === null) {
        w.byte(0x01);
        return;
      }
      if (isByteArray(value)) {
        // The common byte value (a fixed-length record) costs no Seen set.
        writeBytes(w, value);
        return;
      }
      const start = w.pos;
      if (writeTagged(w, value, 0, new Seen())) return;
      w.pos = start;
      break;
    }
  }
  let bytes: Buffer;
  try {
    bytes = serialize(value);
  } catch (cause) {
    throw new TsmrError(ErrorCode.BAD_VALUE, `cannot serialize value: ${(cause as Error).message}`, {
      cause,
    });
  }
  w.byte(V8);
  w.bytes(bytes);
}

/** Writes `s` under {@link STRING}, or under {@link WTF8_STRING} when it has lone surrogates. */
function writeString(w: ByteWriter, s: string): void {
  const at = w.pos;
  w.byte(STRING);
  if (!w.wtf8(s)) w.buf[at] = WTF8_STRING;
}

function writeNumber(w: ByteWriter, value: number): void {
  if (value >>> 0 === value && (value !== 0 || 1 / value > 0)) {
    w.ensure(5);
    const buf = w.buf;
    buf[w.pos++] = 0x04;
    let n = value;
    do {
      buf[w.pos++] = n & 0xff;
      n = Math.floor(n / 256);
    } while (n > 0);
  } else {
    w.ensure(9);
    w.buf[w.pos++] = 0x05;
    w.pos = w.buf.writeDoubleLE(value, w.pos);
  }
}

function writeBigint(w: ByteWriter, value: bigint): void {
  const negative = value < 0n;
  let hex = (negative ? -value : value).toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  w.ensure(2 + hex.length / 2);
  w.buf[w.pos++] = BIGINT;
  w.buf[w.pos++] = negative ? 1 : 0;
  if (value !== 0n) w.pos += w.buf.write(hex, w.pos, 'hex');
}

/**
 * Encodes a plain array or object with the tagged encoding.
 * @returns false when `value` (or anything in it) needs `v8.serialize`; `w` then holds garbage past its start.
 */
function writeTagged(w: ByteWriter, value: object, depth: number, seen: Seen): boolean {
  if (depth > MAX_DEPTH) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto === Buffer.prototype || proto === Uint8Array.prototype) {
    if (!seen.add(value)) return false;
    writeBytes(w, value as Uint8Array);
    return true;
  }
  if (proto === Array.prototype) {
    const array = value as unknown[];
    if (!isPlainDense(array)) return false;
    if (!seen.add(array)) return false;
    w.byte(ARRAY);
    for (let i = 0; i < array.length; i++) if (!writeNested(w, array[i], depth, seen)) return false;
    return true;
  }
  if (proto === Object.prototype) {
    if (!seen.add(value)) return false;
    w.byte(OBJECT);
    const record = value as Record<string, unknown>;
    for (const key in record) {
      if (!Object.hasOwn(record, key)) return false;
      const at = w.pos;
      w.byte(0);
      if (!w.wtf8(key)) return false;
      fixLength(w, at);
      if (!writeNested(w, record[key], depth, seen)) return false;
    }
    // Symbol-keyed properties are dropped, as structured clone drops them.
    return true;
  }
  return false;
}

/** True for a Buffer or a plain Uint8Array (not a subclass, nor another typed array). */
function isByteArray(value: object): value is Uint8Array {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Buffer.prototype || proto === Uint8Array.prototype;
}

/** Bytes only, as Node's serializer writes a view (its own properties are not cloned either). */
function writeBytes(w: ByteWriter, value: Uint8Array): void {
  w.byte(Object.getPrototypeOf(value) === Buffer.prototype ? BUFFER : UINT8ARRAY);
  w.bytes(value);
}

/** The objects met so far in one value: a list while short, a Set beyond. */
class Seen {
  private readonly list: object[] = [];
  private set: Set<object> | undefined;

  /** Adds `o`; false when it was already there (the value shares an object). */
  add(o: object): boolean {
    if (this.set !== undefined) {
      if (this.set.has(o)) return false;
      this.set.add(o);
      return true;
    }
    if (this.list.includes(o)) return false;
    this.list.push(o);
    if (this.list.length > 16) this.set = new Set(this.list);
    return true;
  }
}

/** True for an array with no holes and no properties besides its indices and length. */
function isPlainDense(array: unknown[]): boolean {
  const n = array.length;
  // Object.keys lists indices and any extra property; a dense plain array has exactly n keys.
  if (n <= 16) {
    for (let i = 0; i < n; i++) if (!(i in array)) return false;
    let keys = 0;
    for (const _ in array) if (++keys > n) return false;
    return true;
  }
  return Object.keys(array).length === n;
}

/** Writes `value` as `varint(length) encoding`; false when it needs `v8.serialize`. */
function writeNested(w: ByteWriter, value: unknown, depth: number, seen: Seen): boolean {
  const at = w.pos;
  w.byte(0);
  switch (typeof value) {
    case 'number':
      writeNumber(w, value);
      break;
    case 'string':
      writeString(w, value);
      break;
    case 'boolean':
      w.byte(value ? 0x03 : 0x02);
      break;
    case 'undefined':
      w.byte(0x00);
      break;
    case 'bigint':
      writeBigint(w, value);
      break;
    case 'object':
      if (value === null) w.byte(0x01);
      else if (!writeTagged(w, value, depth + 1, seen)) return false;
      break;
    default:
      return false;
  }
  fixLength(w, at);
  return true;
}

/** Fills in the one-byte length placeholder at `at` for the bytes after it, widening it if needed. */
function fixLength(w: ByteWriter, at: number): void {
  const length = w.pos - at - 1;
  if (length < 0x80) {
    w.buf[at] = length;
    return;
  }
  let extra = 0;
  for (let n = length; n >= 0x80; n = Math.floor(n / 0x80)) extra++;
  w.ensure(extra);
  w.buf.copyWithin(at + 1 + extra, at + 1, w.pos);
  w.pos += extra;
  let p = at;
  let n = length;
  while (n >= 0x80) {
    w.buf[p++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  w.buf[p] = n;
}

/**
 * Decodes the value in `buf[start, end)`.
 * @throws TsmrError `TSMR_CORRUPT_DATA` for bytes that are not a value encoding.
 */
export function decodeValue(buf: Buffer, start: number, end: number): unknown {
  switch (buf[start]) {
    case 0x00:
      return undefined;
    case 0x01:
      return null;
    case 0x02:
      return false;
    case 0x03:
      return true;
    case 0x04: {
      let n = 0;
      for (let i = end - 1; i > start; i--) n = n * 256 + buf[i];
      return n;
    }
    case 0x05:
      if (end - start !== 9) throw corrupt('bad float length');
      return buf.readDoubleLE(start + 1);
    case STRING:
      return buf.toString('utf8', start + 1, end);
    case WTF8_STRING:
      return readWtf8(buf, start + 1, end);
    case ARRAY: {
      const out: unknown[] = [];
      const pos = [start + 1];
      while (pos[0] < end) out.push(readNested(buf, pos, end));
      return out;
    }
    case OBJECT: {
      const out: Record<string, unknown> = {};
      const pos = [start + 1];
      while (pos[0] < end) {
        const keyLength = readLength(buf, pos, end);
        const key = buf.toString('utf8', pos[0], pos[0] + keyLength);
        pos[0] += keyLength;
        const value = readNested(buf, pos, end);
        if (key === '__proto__') {
          Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
        } else {
          out[key] = value;
        }
      }
      return out;
    }
    case BIGINT: {
      if (end - start < 2) throw corrupt('bigint ends early');
      const magnitude = end - start === 2 ? 0n : BigInt(`0x${buf.toString('hex', start + 2, end)}`);
      return buf[start + 1] === 1 ? -magnitude : magnitude;
    }
    case BUFFER: {
      // A copy (from Node's pool for small values, as Buffer.from does), made without a view.
      const out = Buffer.allocUnsafe(end - start - 1);
      buf.copy(out, 0, start + 1, end);
      return out;
    }
    case UINT8ARRAY:
      return copyOut(buf, start + 1, end);
    case V8:
      try {
        return deserialize(buf.subarray(start + 1, end));
      } catch (cause) {
        throw new TsmrError(ErrorCode.CORRUPT_DATA, 'corrupt value encoding', { cause });
      }
    default:
      throw corrupt(`unknown tag ${buf[start]}`);
  }
}

function readLength(buf: Buffer, pos: number[], end: number): number {
  let length: number;
  try {
    length = readVarint(buf, pos[0], end, pos);
  } catch {
    throw corrupt('length runs past the end');
  }
  if (pos[0] + length > end) throw corrupt('element runs past the end');
  return length;
}

function readNested(buf: Buffer, pos: number[], end: number): unknown {
  const length = readLength(buf, pos, end);
  if (length === 0) throw corrupt('empty element');
  const value = decodeValue(buf, pos[0], pos[0] + length);
  pos[0] += length;
  return value;
}

function corrupt(what: string): TsmrError {
  return new TsmrError(ErrorCode.CORRUPT_DATA, `corrupt value encoding: ${what}`);
}

const scratch = new ByteWriter(256);

/** Encodes `value` into a new Buffer. */
export function encodeValue(value: unknown): Buffer {
  scratch.reset();
  writeValue(scratch, value);
  return Buffer.from(scratch.view());
}
