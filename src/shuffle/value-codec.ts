/**
 * Binary encoding of values. Values are framed by their record, so a body runs
 * to the end of its slice.
 *
 * | tag  | value                                    |
 * | ---- | ---------------------------------------- |
 * | 0x00 | undefined                                |
 * | 0x01 | null                                     |
 * | 0x02 | false                                    |
 * | 0x03 | true                                     |
 * | 0x04 | integer in [0, 2^32): 1–4 bytes LE       |
 * | 0x05 | number: 8 bytes float64 LE               |
 * | 0x06 | string: UTF-8 bytes (well-formed strings) |
 * | 0xff | anything else: `v8.serialize` output     |
 *
 * The tagged fast paths cover the hot values of counting jobs; the rest goes
 * through V8's structured-clone serializer, which round-trips bigint, Map, Set,
 * Date, typed arrays and nested objects.
 */
import { deserialize, serialize } from 'node:v8';
import { ErrorCode, TsmrError } from '../errors.ts';
import { ByteWriter } from './byte-writer.ts';

const V8 = 0xff;

/** Appends the encoding of `value` to `w`. @throws TsmrError `TSMR_BAD_VALUE` when V8 cannot serialize it. */
export function writeValue(w: ByteWriter, value: unknown): void {
  switch (typeof value) {
    case 'number':
      if (value >= 0 && value < 0x1_0000_0000 && Number.isInteger(value) && !Object.is(value, -0)) {
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
      return;
    case 'string':
      // A lone surrogate would not survive UTF-8; V8's serializer keeps it.
      if (value.isWellFormed()) {
        w.byte(0x06);
        w.string(value);
        return;
      }
      break;
    case 'boolean':
      w.byte(value ? 0x03 : 0x02);
      return;
    case 'undefined':
      w.byte(0x00);
      return;
    default:
      if (value === null) {
        w.byte(0x01);
        return;
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
      return buf.readDoubleLE(start + 1);
    case 0x06:
      return buf.toString('utf8', start + 1, end);
    case V8:
      try {
        return deserialize(buf.subarray(start + 1, end));
      } catch (cause) {
        throw new TsmrError(ErrorCode.CORRUPT_DATA, 'corrupt value encoding', { cause });
      }
    default:
      throw new TsmrError(ErrorCode.CORRUPT_DATA, `corrupt value encoding: unknown tag ${buf[start]}`);
  }
}

const scratch = new ByteWriter(256);

/** Encodes `value` into a new Buffer. */
export function encodeValue(value: unknown): Buffer {
  scratch.reset();
  writeValue(scratch, value);
  return Buffer.from(scratch.view());
}
