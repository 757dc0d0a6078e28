/**
 * WTF-8 (Simon Sapin, https://simonsapin.github.io/wtf-8/): UTF-8 generalized
 * to every JS string. A well-formed string encodes exactly as UTF-8; a lone
 * surrogate (a code unit U+D800–U+DFFF that is not half of a pair) becomes the
 * 3-byte generalized UTF-8 sequence of its code unit, `ED A0 80` … `ED BF BF`,
 * where UTF-8 (`Buffer.write`, `TextEncoder`) would write U+FFFD and so make
 * distinct strings one. A surrogate pair stays one 4-byte sequence, so the
 * encoding is injective and decoding gives back the original string.
 *
 * Byte order: UTF-8 byte order for well-formed strings (code point order); a
 * lone surrogate sorts by its code unit between U+D7FF (`ED 9F BF`) and U+E000
 * (`EE 80 80`).
 *
 * Well-formed UTF-8 never holds `ED` followed by `A0`–`BF` (that would encode
 * a surrogate), and Node decodes such bytes as U+FFFD, so a decoded string
 * without U+FFFD proves that no lone surrogate was encoded: that check is the
 * fast path of {@link readWtf8}.
 */

/**
 * Writes `s` as WTF-8 at `buf[pos, …)`, in JS; `buf` must have room for
 * `3 × s.length` bytes. For a well-formed string `Buffer.write` gives the same
 * bytes faster (`ByteWriter.wtf8` picks).
 * @returns the position after the last byte written.
 */
export function writeWtf8(buf: Buffer, pos: number, s: string): number {
  let p = pos;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[p++] = c;
    } else if (c < 0x800) {
      buf[p++] = 0xc0 | (c >> 6);
      buf[p++] = 0x80 | (c & 0x3f);
    } else {
      const next = c >= 0xd800 && c < 0xdc00 && i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (next >= 0xdc00 && next < 0xe000) {
        // A surrogate pair: one supplementary code point, 4 bytes.
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        buf[p++] = 0xf0 | (c >> 18);
        buf[p++] = 0x80 | ((c >> 12) & 0x3f);
      } else {
        // Any other code unit, a lone surrogate included: 3 bytes.
        buf[p++] = 0xe0 | (c >> 12);
      }
      buf[p++] = 0x80 | ((c >> 6) & 0x3f);
      buf[p++] = 0x80 | (c & 0x3f);
    }
  }
  return p;
}

/** Decodes the WTF-8 bytes `buf[start, end)` (invalid UTF-8 other than lone surrogates becomes U+FFFD). */
export function readWtf8(buf: Buffer, start: number, end: number): string {
  const s = buf.toString('utf8', start, end);
  // V8 answers at once for one-byte strings (all code points below U+0100).
  return s.indexOf('\ufffd') < 0 ? s : readLoneSurrogates(buf, start, end, s);
}

/** `buf[start, end)` decoded with its lone surrogates, or `utf8` (its UTF-8 decoding) when it has none. */
function readLoneSurrogates(buf: Buffer, start: number, end: number, utf8: string): string {
  let out = '';
  let from = start;
  for (let i = start; i + 2 < end; i++) {
    if (buf[i] === 0xed && buf[i + 1] >= 0xa0 && buf[i + 1] <= 0xbf && (buf[i + 2] & 0xc0) === 0x80) {
      out +=
        buf.toString('utf8', from, i) +
        String.fromCharCode(0xd000 | ((buf[i + 1] & 0x3f) << 6) | (buf[i + 2] & 0x3f));
      i += 2;
      from = i + 1;
    }
  }
  return from === start ? utf8 : out + buf.toString('utf8', from, end);
}
