/**
 * The default partitioner: xxHash64 (seed 0) of the encoded key, mod R.
 *
 * Hashing the *encoded* key makes the partition of a key the same on every
 * machine and Node version (Hadoop's HashPartitioner uses Java's
 * `hashCode`, which is stable for the same reason).
 *
 * xxHash64 (Yann Collet's specification) is computed here in plain JS on
 * 32-bit halves: for the short keys of the hot path this is several times
 * faster than calling into WebAssembly and building a BigInt, and it hashes a
 * byte range without allocating. The tests check it against `xxhash-wasm`
 * and the reference vectors.
 */

/** Partition of an encoded key in `[0, numPartitions)`. */
export function hashPartition(encodedKey: Uint8Array, numPartitions: number): number {
  return hashPartitionRange(encodedKey, 0, encodedKey.length, numPartitions);
}

/** Partition of the encoded key `buf[start, end)` in `[0, numPartitions)`, without allocating. */
export function hashPartitionRange(
  buf: Uint8Array,
  start: number,
  end: number,
  numPartitions: number,
): number {
  if (numPartitions === 1) return 0;
  xxh64(buf, start, end);
  const h = hi >>> 0;
  const l = lo >>> 0;
  if (numPartitions <= MAX_FAST_MODULUS) {
    // (h·2^32 + l) mod R, exactly: every product stays below 2^53.
    return ((h % numPartitions) * (TWO_32 % numPartitions) + (l % numPartitions)) % numPartitions;
  }
  return Number(((BigInt(h) << 32n) | BigInt(l)) % BigInt(numPartitions));
}

/** xxHash64 of `buf[start, end)` with seed 0, as a BigInt (for tests and tools). */
export function xxHash64(buf: Uint8Array, start = 0, end = buf.length): bigint {
  xxh64(buf, start, end);
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

const TWO_32 = 2 ** 32;
/** Largest R for which the modulus can be taken in doubles. */
const MAX_FAST_MODULUS = 2 ** 26;

// The five primes of xxHash64, as 32-bit halves.
const P1_HI = 0x9e3779b1 | 0;
const P1_LO = 0x85ebca87 | 0;
const P2_HI = 0xc2b2ae3d | 0;
const P2_LO = 0x27d4eb4f | 0;
const P3_HI = 0x165667b1 | 0;
const P3_LO = 0x9e3779f9 | 0;
const P4_HI = 0x85ebca77 | 0;
const P4_LO = 0xc2b2ae63 | 0;
const P5_HI = 0x27d4eb2f | 0;
const P5_LO = 0x165667c5 | 0;

// Results of the 64-bit helpers, as signed int32 halves (small integers: storing them
// allocates nothing, where unsigned values above 2^31 would be boxed).
let hi = 0;
let lo = 0;

/**
 * (ahi:alo) × (bhi:blo) mod 2^64 → hi:lo. The low word and the cross terms
 * come from `Math.imul`; the high word of alo × blo from 16-bit halves, exact
 * in doubles.
 */
function mul(ahi: number, alo: number, bhi: number, blo: number): void {
  const a0 = alo & 0xffff;
  const a1 = alo >>> 16;
  const b0 = blo & 0xffff;
  const b1 = blo >>> 16;
  const mid = a1 * b0 + a0 * b1 + ((a0 * b0) >>> 16);
  const carry = a1 * b1 + Math.floor(mid / 65536);
  hi = (Math.imul(ahi, blo) + Math.imul(alo, bhi) + (carry | 0)) | 0;
  lo = Math.imul(alo, blo);
}

/** byte × (bhi:blo) mod 2^64 → hi:lo, for `byte` < 2^21 (the product with blo is exact in a double). */
function mulByte(byte: number, bhi: number, blo: number): void {
  hi = (Math.imul(byte, bhi) + Math.floor((byte * (blo >>> 0)) / TWO_32)) | 0;
  lo = Math.imul(byte, blo);
}

/** (ahi:alo) + (bhi:blo) mod 2^64 → hi:lo. */
function add(ahi: number, alo: number, bhi: number, blo: number): void {
  const l = (alo >>> 0) + (blo >>> 0);
  lo = l | 0;
  hi = (ahi + bhi + (l > 0xffffffff ? 1 : 0)) | 0;
}

/** Rotates (ahi:alo) left by `r` bits (0 < r < 64) → hi:lo. */
function rotl(ahi: number, alo: number, r: number): void {
  if (r >= 32) {
    const t = ahi;
    ahi = alo;
    alo = t;
    r -= 32;
  }
  if (r === 0) {
    hi = ahi;
    lo = alo;
  } else {
    hi = (ahi << r) | (alo >>> (32 - r));
    lo = (alo << r) | (ahi >>> (32 - r));
  }
}

/** One accumulator round: rotl(acc + input·P2, 31)·P1 → hi:lo. */
function round(acchi: number, acclo: number, inhi: number, inlo: number): void {
  mul(inhi, inlo, P2_HI, P2_LO);
  add(acchi, acclo, hi, lo);
  rotl(hi, lo, 31);
  mul(hi, lo, P1_HI, P1_LO);
}

/** (h ^ round(0, v)) · P1 + P4 → hi:lo. */
function mergeRound(hhi: number, hlo: number, vhi: number, vlo: number): void {
  round(0, 0, vhi, vlo);
  mul(hhi ^ hi, hlo ^ lo, P1_HI, P1_LO);
  add(hi, lo, P4_HI, P4_LO);
}

function u32le(b: Uint8Array, p: number): number {
  return b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);
}

/** xxHash64 (seed 0) of `b[start, end)` → hi:lo. */
function xxh64(b: Uint8Array, start: number, end: number): void {
  const len = end - start;
  let p = start;
  let hhi: number;
  let hlo: number;
  if (len >= 32) {
    // v1 = P1 + P2, v2 = P2, v3 = 0, v4 = -P1 (seed 0).
    add(P1_HI, P1_LO, P2_HI, P2_LO);
    let v1hi = hi;
    let v1lo = lo;
    let v2hi = P2_HI;
    let v2lo = P2_LO;
    let v3hi = 0;
    let v3lo = 0;
    add(~P1_HI, ~P1_LO, 0, 1);
    let v4hi = hi;
    let v4lo = lo;
    const limit = end - 32;
    do {
      round(v1hi, v1lo, u32le(b, p + 4), u32le(b, p));
      v1hi = hi;
      v1lo = lo;
      round(v2hi, v2lo, u32le(b, p + 12), u32le(b, p + 8));
      v2hi = hi;
      v2lo = lo;
      round(v3hi, v3lo, u32le(b, p + 20), u32le(b, p + 16));
      v3hi = hi;
      v3lo = lo;
      round(v4hi, v4lo, u32le(b, p + 28), u32le(b, p + 24));
      v4hi = hi;
      v4lo = lo;
      p += 32;
    } while (p <= limit);
    rotl(v1hi, v1lo, 1);
    hhi = hi;
    hlo = lo;
    rotl(v2hi, v2lo, 7);
    add(hhi, hlo, hi, lo);
    hhi = hi;
    hlo = lo;
    rotl(v3hi, v3lo, 12);
    add(hhi, hlo, hi, lo);
    hhi = hi;
    hlo = lo;
    rotl(v4hi, v4lo, 18);
    add(hhi, hlo, hi, lo);
    hhi = hi;
    hlo = lo;
    mergeRound(hhi, hlo, v1hi, v1lo);
    mergeRound(hi, lo, v2hi, v2lo);
    mergeRound(hi, lo, v3hi, v3lo);
    mergeRound(hi, lo, v4hi, v4lo);
    hhi = hi;
    hlo = lo;
  } else {
    hhi = P5_HI;
    hlo = P5_LO;
  }
  // h += len (len < 2^32 here)
  add(hhi, hlo, 0, len >>> 0);
  hhi = hi;
  hlo = lo;
  while (p + 8 <= end) {
    round(0, 0, u32le(b, p + 4), u32le(b, p));
    rotl(hhi ^ hi, hlo ^ lo, 27);
    mul(hi, lo, P1_HI, P1_LO);
    add(hi, lo, P4_HI, P4_LO);
    hhi = hi;
    hlo = lo;
    p += 8;
  }
  if (p + 4 <= end) {
    mul(0, u32le(b, p), P1_HI, P1_LO);
    rotl(hhi ^ hi, hlo ^ lo, 23);
    mul(hi, lo, P2_HI, P2_LO);
    add(hi, lo, P3_HI, P3_LO);
    hhi = hi;
    hlo = lo;
    p += 4;
  }
  while (p < end) {
    mulByte(b[p], P5_HI, P5_LO);
    rotl(hhi ^ hi, hlo ^ lo, 11);
    mul(hi, lo, P1_HI, P1_LO);
    hhi = hi;
    hlo = lo;
    p++;
  }
  // Avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32.
  mul(hhi, hlo ^ (hhi >>> 1), P2_HI, P2_LO);
  mul(hi ^ (hi >>> 29), lo ^ ((lo >>> 29) | (hi << 3)), P3_HI, P3_LO);
  lo ^= hi;
}
