/**
 * String keys given as bytes (`MapContext.emitText`): the text of
 * `bytes[start, end)` decoded as UTF-8 or latin1, hashed and looked up as
 * bytes, so that a key already in a map-side table costs no string.
 *
 * A string key's encoding is the tag `0x07` then the string's WTF-8 bytes
 * (`key-codec.ts`). For ASCII bytes, and for well-formed UTF-8 decoded as
 * UTF-8, that body is the input bytes themselves; latin1 bytes at or above
 * `0x80` become two bytes each (U+0080–U+00FF in UTF-8), written by
 * {@link writeLatin1Body}. Ill-formed UTF-8 has no such body: its decoded
 * string (with U+FFFD, as `Buffer.toString('utf8')` decodes it) is the key.
 */
import { ErrorCode, TsmrError } from '../errors.ts';

/** Writes the UTF-8 of latin1 bytes `src[start, end)` at `dst[pos, …)` (room for 2 bytes each); returns the end. */
export function writeLatin1Body(
  src: Uint8Array,
  start: number,
  end: number,
  dst: Uint8Array,
  pos: number,
): number {
  for (let i = start; i < end; i++) {
    const c = src[i];
    if (c < 0x80) {
      dst[pos++] = c;
    } else {
      dst[pos++] = 0xc0 | (c >> 6);
      dst[pos++] = 0x80 | (c & 0x3f);
    }
  }
  return pos;
}

/** Whether `b[start, end)` is well-formed UTF-8 (no overlong forms, surrogates, or code points past U+10FFFF). */
export function isWellFormedUtf8(b: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c === 0xe0) lo = 0xa0;
      else if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c === 0xf0) lo = 0x90;
      else if (c === 0xf4) hi = 0x8f;
    } else {
      return false;
    }
    if (i + n >= end) return false;
    const c1 = b[i + 1];
    if (c1 < lo || c1 > hi) return false;
    for (let k = 2; k <= n; k++) if ((b[i + k] & 0xc0) !== 0x80) return false;
    i += n + 1;
  }
  return true;
}

/** The length in UTF-16 code units of the string whose WTF-8 is `b[start, end)`. */
export function utf16Length(b: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = b[i];
    if ((c & 0xc0) !== 0x80) n += c >= 0xf0 ? 2 : 1;
  }
  return n;
}

/** The string `bytes[start, end)` decode to, as `Buffer.toString` decodes them. */
export function decodeText(bytes: Uint8Array, start: number, end: number, latin1: boolean): string {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return b.toString(latin1 ? 'latin1' : 'utf8', start, end);
}

/**
 * Checks the arguments of `MapContext.emitText`.
 * @returns whether the bytes are latin1 (else UTF-8).
 * @throws TsmrError `TSMR_BAD_KEY` when `bytes` is not a `Uint8Array`,
 *   `[start, end)` not a range of integers within it, or `encoding` neither
 *   `'utf8'`, `'latin1'` nor undefined.
 */
export function checkText(bytes: Uint8Array, start: number, end: number, encoding: unknown): boolean {
  // Small on purpose (the errors are built elsewhere): V8 inlines it into the job's map loop.
  if (isTextRange(bytes, start, end)) {
    if (encoding === 'latin1') return true;
    if (encoding === undefined || encoding === 'utf8') return false;
  }
  throw badText(bytes, start, end, encoding);
}

/** Whether `bytes` is a `Uint8Array` and `[start, end)` a range of integers within it. */
function isTextRange(bytes: Uint8Array, start: number, end: number): boolean {
  return (
    bytes instanceof Uint8Array &&
    Number.isInteger(start) &&
    Number.isInteger(end) &&
    start >= 0 &&
    start <= end &&
    end <= bytes.length
  );
}

/** The error {@link checkText} throws for these arguments. */
function badText(bytes: Uint8Array, start: number, end: number, encoding: unknown): TsmrError {
  if (isTextRange(bytes, start, end)) {
    return new TsmrError(
      ErrorCode.BAD_KEY,
      `emitText(bytes, start, end, value, encoding): encoding must be 'utf8' or 'latin1', got ${String(encoding)}`,
    );
  }
  const what = bytes instanceof Uint8Array ? `${bytes.length} bytes` : typeof bytes;
  return new TsmrError(
    ErrorCode.BAD_KEY,
    `emitText(bytes, start, end, value) needs a Uint8Array and integers 0 <= start <= end <= bytes.length; got ${what}, start ${String(start)}, end ${String(end)}`,
  );
}
