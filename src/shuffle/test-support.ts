/**
 * Helpers shared by the shuffle's tests (not used by the engine): temporary
 * directories, fast-check arbitraries of keys and values, and a reference
 * comparator implementing the documented key order.
 */
import { accessSync, constants, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Key } from '../api/types.ts';

/**
 * Where test files go: `/dev/shm` (tmpfs) when there is one, else the OS temp
 * dir. Creating a file on a VM's disk can cost 1–2 ms, which would dominate
 * the property tests that write hundreds of spill runs; tmpfs files are still
 * real files behind the same system calls.
 */
const testRoot = ((): string => {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
})();

/** A fresh temporary directory, removed after the test. */
export function tempDir(t: { after(fn: () => void): void }, prefix = 'tsmr-shuffle-'): string {
  const dir = mkdtempSync(join(testRoot, prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Names of the files in `dir`, sorted. */
export function filesIn(dir: string): string[] {
  return readdirSync(dir).sort();
}

/**
 * Any code point except lone surrogates. (Built by hand: fast-check's
 * `unit: 'binary'` takes seconds to construct.)
 */
export const anyChar: fc.Arbitrary<string> = fc
  .integer({ min: 0, max: 0x10ffff - 0x800 })
  .map((c) => String.fromCodePoint(c < 0xd800 ? c : c + 0x800));

/** Any well-formed string. */
export const anyString: fc.Arbitrary<string> = fc.string({ unit: anyChar, maxLength: 20 });

/**
 * Any JS string: code points of every plane, lone surrogates of the whole
 * range (a high one before a low one makes a pair) and the code points next to
 * them. (fast-check's `unit: 'binary'` yields almost no lone surrogates.)
 */
export const anyJsString: fc.Arbitrary<string> = fc.string({
  unit: fc.oneof(
    { weight: 2, arbitrary: anyChar },
    { weight: 2, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) },
    { weight: 1, arbitrary: fc.constantFrom('a', '\u0000', '\ud7ff', '\ue000', '\ufffd', '\u{10ffff}') },
  ),
  maxLength: 12,
});

/** Strings with non-BMP characters, NUL and lone surrogates. */
export const keyString: fc.Arbitrary<string> = fc.string({
  unit: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('a', 'b', 'ab', '\u0000', '\u00ff', '\u{1F600}', '\uffff') },
    { weight: 4, arbitrary: anyChar },
    { weight: 1, arbitrary: fc.constantFrom('\ud800', '\udfff') },
  ),
  maxLength: 6,
});

const specialNumbers = [
  0,
  -0,
  Number.NaN,
  Infinity,
  -Infinity,
  Number.MIN_VALUE,
  -Number.MIN_VALUE,
  2.2250738585072014e-308 / 3,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  1,
  -1,
  2 ** 53,
];

/** A key atom of any type, with the edge cases of each. */
export const keyAtom: fc.Arbitrary<Key> = fc.oneof(
  keyString,
  fc.oneof(fc.double(), fc.constantFrom(...specialNumbers), fc.integer({ min: -5, max: 5 })),
  fc.oneof(
    fc.bigInt({ min: -(2n ** 300n), max: 2n ** 300n }),
    fc.bigInt({ min: -300n, max: 300n }),
    fc.constantFrom(0n, 255n, 256n, -255n, -256n),
  ),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.constantFrom(0, 0, 1, 0x7f, 0xff), { maxLength: 5 }).map((a) => Uint8Array.from(a)),
);

/** A key: an atom or nested arrays of keys. */
export const anyKey: fc.Arbitrary<Key> = fc.letrec<{ key: Key }>((tie) => ({
  key: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    keyAtom,
    fc.array(tie('key'), { maxLength: 4 }) as fc.Arbitrary<Key>,
  ),
})).key;

const primitiveValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, 2 ** 32 - 1, 2 ** 32, Number.NaN),
  anyString,
  keyString,
  anyJsString,
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.bigInt(),
);

/** A value that round-trips through the value codec: primitives, plain objects and arrays, and others. */
export const anyValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    primitiveValue,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(keyString, anyJsString, fc.constantFrom('1', '__proto__', 'x')), tie('value'), {
      maxKeys: 4,
      noNullPrototype: true,
    }),
    fc.record({ a: fc.integer(), b: fc.array(fc.string()) }, { noNullPrototype: true }),
    fc.uint8Array({ maxLength: 4 }),
    fc.date({ noInvalidDate: true }),
    fc.constant(new Map([[1, [2]]])),
  ),
})).value;

/** What `decodeKey(encodeKey(key))` must give: `-0` → `0`, byte arrays as plain `Uint8Array`. */
export function normalizeKey(key: Key): Key {
  if (typeof key === 'number') return key === 0 ? 0 : key;
  if (key instanceof Uint8Array) return new Uint8Array(key);
  if (Array.isArray(key)) return (key as readonly Key[]).map(normalizeKey);
  return key;
}

function rank(key: Key): number {
  if (key === null) return 0;
  if (key === false) return 1;
  if (key === true) return 2;
  if (typeof key === 'number') return 3;
  if (typeof key === 'bigint') return 4;
  if (typeof key === 'string') return 5;
  if (key instanceof Uint8Array) return 6;
  return 7;
}

/**
 * The documented key order, written independently of the codec:
 * `null < false < true < number < bigint < string < Uint8Array < array`;
 * numbers numerically (`-0` is `0`, `NaN` last); strings by code points
 * (UTF-8 byte order), a lone surrogate counting as the code point of its code
 * unit; arrays element by element, a prefix first.
 */
export function referenceCompare(a: Key, b: Key): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === 'number' && typeof b === 'number') {
    const an = Number.isNaN(a);
    const bn = Number.isNaN(b);
    if (an || bn) return an && bn ? 0 : an ? 1 : -1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return compareCodePoints(a, b);
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b);
  if (Array.isArray(a) && Array.isArray(b)) {
    const x = a as readonly Key[];
    const y = b as readonly Key[];
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      const d = referenceCompare(x[i], y[i]);
      if (d !== 0) return d;
    }
    return x.length - y.length;
  }
  return 0;
}

/** Compares strings by code points; the string iterator yields a lone surrogate on its own. */
function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0) as number);
  const y = Array.from(b, (c) => c.codePointAt(0) as number);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}
