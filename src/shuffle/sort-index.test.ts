import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { KeySorter } from './sort-index.ts';

/** Lays keys out in one buffer with (partition, start, end, unused) metadata, as the sort buffer does. */
function layout(parts: ArrayLike<number>, keys: readonly Uint8Array[]): { buf: Buffer; meta: Uint32Array } {
  const buf = Buffer.concat([Buffer.from([0xee]), ...keys]);
  const meta = new Uint32Array(4 * keys.length);
  let pos = 1;
  keys.forEach((k, i) => {
    meta[4 * i] = parts[i];
    meta[4 * i + 1] = pos;
    pos += k.length;
    meta[4 * i + 2] = pos;
  });
  return { buf, meta };
}

function reference(parts: readonly number[], keys: readonly Uint8Array[]): number[] {
  return keys
    .map((_, i) => i)
    .sort((a, b) => parts[a] - parts[b] || Buffer.compare(keys[a], keys[b]) || a - b);
}

/** Keys that share long prefixes, end inside a window, contain zeros, repeat. */
const trickyKey = fc.oneof(
  fc.uint8Array({ maxLength: 12 }),
  fc.array(fc.constantFrom(0, 1, 7, 0xff), { maxLength: 9 }).map((a) => Uint8Array.from(a)),
  fc
    .tuple(
      fc.constantFrom('', 'http://example.com/', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'),
      fc.string({ maxLength: 4 }),
    )
    .map(([p, s]) => Uint8Array.from(Buffer.from(`\u0007${p}${s}`))),
);

describe('KeySorter', () => {
  for (const [mode, sorter] of [
    ['5-byte windows', new KeySorter()],
    ['3-byte windows', new KeySorter({ wideLimit: 0 })],
  ] as const) {
    it(`sorts by (partition, key bytes, index) like a stable comparison sort (${mode})`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 5 }),
          fc.array(fc.tuple(fc.nat(4), trickyKey), { maxLength: 200 }),
          (R, items) => {
            const parts = items.map(([p]) => p % R);
            const keys = items.map(([, k]) => k);
            const { buf, meta } = layout(parts, keys);
            const order = sorter.sort(keys.length, meta, 4, buf, R);
            assert.deepEqual([...order], reference(parts, keys));
          },
        ),
        { numRuns: 500 },
      );
    });

    it(`sorts only records first … n-1 when given first (${mode})`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 5 }),
          fc.array(fc.tuple(fc.nat(4), trickyKey), { maxLength: 120 }),
          fc.nat(),
          (R, items, f) => {
            const first = items.length === 0 ? 0 : f % (items.length + 1);
            const parts = items.map(([p]) => p % R);
            const keys = items.map(([, k]) => k);
            const { buf, meta } = layout(parts, keys);
            const order = sorter.sort(keys.length, meta, 4, buf, R, first);
            assert.deepEqual(
              [...order],
              reference(parts, keys).filter((i) => i >= first),
            );
          },
        ),
        { numRuns: 300 },
      );
    });
  }

  it('handles large runs of equal and nearly equal keys, in both window sizes', () => {
    const keys: Uint8Array[] = [];
    for (let i = 0; i < 3000; i++) {
      const variant = i % 7;
      const base = 'x'.repeat(40 + (variant % 3));
      keys.push(Buffer.from(variant === 6 ? `${base}\u0000` : variant === 5 ? base.slice(0, 2) : base));
    }
    const parts = new Uint32Array(keys.length);
    const { buf, meta } = layout(parts, keys);
    for (const sorter of [new KeySorter(), new KeySorter({ wideLimit: 0 })]) {
      const order = sorter.sort(keys.length, meta, 4, buf, 1);
      assert.deepEqual([...order], reference([...parts], keys));
    }
  });

  it('reuses its scratch space across calls', () => {
    const sorter = new KeySorter();
    for (const n of [10, 1000, 5, 2000]) {
      const keys = Array.from({ length: n }, (_, i) => Buffer.from(String((i * 7919) % 1009)));
      const parts = Uint32Array.from(keys, (_, i) => i % 3);
      const { buf, meta } = layout(parts, keys);
      assert.deepEqual([...sorter.sort(n, meta, 4, buf, 3)], reference([...parts], keys));
    }
  });
});
