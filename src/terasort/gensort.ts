/**
 * Records of the Sort Benchmark (sortbenchmark.org), ASCII form: what
 * `gensort -a` writes (gensort 1.5, Chris Nyberg), reimplemented from its
 * documented algorithm.
 *
 * A record is 100 bytes: a 10-byte key of printable characters (`' '`–`'~'`),
 * 2 spaces, the record number as 32 uppercase hex digits, 2 spaces, 52 bytes
 * of filler (13 hex digits of the random number, each written 4 times), and
 * `\r\n`. Record `n`'s random number is `f^(n+1)(0)` for the 128-bit linear
 * congruential generator `f(x) = (a·x + c) mod 2^128` with
 * `a = 0x2360ed051fc65da44385df649fccf645` (L'Ecuyer 1999) and
 * `c = 0x4a696d47726179524950202020202001`; the key is that number's high 64
 * bits in base 95, least significant digit first (8 digits), then 2 digits
 * of its low 64 bits; the filler digits are bits 48…0 of the low 64 bits.
 * The generator can jump ahead by any count (by the powers `f^(2^i)`), so any
 * range of records is generated on its own, in parallel.
 *
 * With seed 0 the bytes are those of `gensort -a`: records 0 and 1 and the
 * key prefixes the tests check are the published ones. A seed `s > 0` starts
 * the same generator `s × 2^64` steps later (a stream no seed-0 run reaches);
 * the record numbers in the records still count from 0.
 */

/** Bytes per record. */
export const RECORD_BYTES = 100;
/** Bytes of the key at the start of a record. */
export const KEY_BYTES = 10;

const MASK128 = (1n << 128n) - 1n;
const A = 0x2360ed051fc65da44385df649fccf645n;
const C = 0x4a696d47726179524950202020202001n;

/** `f^(2^i)` as `(a_i, c_i)`, i = 0…127: `f∘f` has `a' = a²`, `c' = a·c + c`. */
const POWERS: [bigint, bigint][] = (() => {
  const out: [bigint, bigint][] = [[A, C]];
  for (let i = 1; i < 128; i++) {
    const [a, c] = out[i - 1];
    out.push([(a * a) & MASK128, (a * c + c) & MASK128]);
  }
  return out;
})();

/** The generator's state after `steps` steps from 0 (gensort's `skip_ahead_rand`). */
function skipAhead(steps: bigint): bigint {
  let x = 0n;
  for (let i = 0; i < 128 && steps >> BigInt(i) !== 0n; i++) {
    if ((steps >> BigInt(i)) & 1n) {
      const [a, c] = POWERS[i];
      x = (x * a + c) & MASK128;
    }
  }
  return x;
}

/** A 128-bit number as 8 little-endian 16-bit limbs. */
function limbsOf(x: bigint): number[] {
  return Array.from({ length: 8 }, (_, i) => Number((x >> BigInt(16 * i)) & 0xffffn));
}

const A_LIMBS = limbsOf(A);
const C_LIMBS = limbsOf(C);
const HEX = Buffer.from('0123456789ABCDEF', 'latin1');
const TWO_32 = 2 ** 32;

/**
 * Writes records `first … first + count − 1` of stream `seed` into `out` at
 * `offset` (`count × 100` bytes).
 * @param first a safe integer >= 0; `seed` an integer from 0 to 2^32.
 */
export function writeRecords(out: Buffer, offset: number, first: number, count: number, seed = 0): void {
  if (!Number.isSafeInteger(first) || first < 0 || !Number.isSafeInteger(count) || count < 0) {
    throw new RangeError(`records ${first}+${count}: want safe integers >= 0`);
  }
  // The state before record `first`; each record first steps it once.
  const x = limbsOf(skipAhead((BigInt(seed) << 64n) + BigInt(first)));
  const product = new Array<number>(8).fill(0);
  for (let r = 0; r < count; r++) {
    // x = a·x + c mod 2^128, on 16-bit limbs (every partial sum stays below 2^53).
    for (let k = 0; k < 8; k++) product[k] = C_LIMBS[k];
    for (let i = 0; i < 8; i++) {
      const xi = x[i];
      for (let j = 0; i + j < 8; j++) product[i + j] += xi * A_LIMBS[j];
    }
    let carry = 0;
    for (let k = 0; k < 8; k++) {
      const v = product[k] + carry;
      x[k] = v % 65536;
      carry = Math.floor(v / 65536);
    }
    writeRecord(out, offset + r * RECORD_BYTES, x, first + r);
  }
}

/** Writes one record from random number `x` (limbs) and record number `n`. */
function writeRecord(out: Buffer, at: number, x: readonly number[], n: number): void {
  // Key: 8 base-95 digits of the high 64 bits, then 2 of the low 64 bits, by long
  // division on 32-bit halves (every intermediate is below 95 · 2^32 < 2^53).
  let hi = x[7] * 65536 + x[6];
  let lo = x[5] * 65536 + x[4];
  for (let i = 0; i < 10; i++) {
    if (i === 8) {
      hi = x[3] * 65536 + x[2];
      lo = x[1] * 65536 + x[0];
    }
    let rem = hi % 95;
    hi = (hi - rem) / 95;
    const v = rem * TWO_32 + lo;
    rem = v % 95;
    lo = (v - rem) / 95;
    out[at + i] = 32 + rem;
  }
  // Two spaces, the record number in 32 hex digits, two spaces.
  out.fill(0x30, at + 12, at + 44);
  out[at + 10] = 0x20;
  out[at + 11] = 0x20;
  for (let m = n, i = at + 43; m > 0; i--) {
    const d = m % 16;
    out[i] = HEX[d];
    m = (m - d) / 16;
  }
  out[at + 44] = 0x20;
  out[at + 45] = 0x20;
  // Filler: nibbles 12…0 of the low 64 bits, each 4 times.
  for (let g = 0; g < 13; g++) {
    const nibble = 12 - g;
    const digit = HEX[(x[nibble >> 2] >> ((nibble & 3) * 4)) & 15];
    const p = at + 46 + 4 * g;
    out[p] = digit;
    out[p + 1] = digit;
    out[p + 2] = digit;
    out[p + 3] = digit;
  }
  out[at + 98] = 0x0d;
  out[at + 99] = 0x0a;
}
