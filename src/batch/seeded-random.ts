/**
 * Random numbers that depend only on a seed and a position, so that every
 * run, mode and thread draws the same number for the same item (a counter
 * based generator: a 32-bit integer hash in the style of MurmurHash3's
 * finaliser, no state to share).
 */

/** A number in [0, 1) determined by `seed` and the integers `keys`. */
export function seededRandom(seed: number, ...keys: number[]): number {
  let h = mix(seed ^ 0x9e3779b9);
  for (const k of keys) h = mix(h ^ mix((k | 0) + Math.imul(Math.floor(k / 2 ** 32), 0x85ebca6b)));
  return (h >>> 0) / 2 ** 32;
}

function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return x ^ (x >>> 16);
}
