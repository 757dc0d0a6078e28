import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Key } from '../api/types.ts';
import { encodeKey } from './key-codec.ts';
import fc from 'fast-check';
import xxhash from 'xxhash-wasm';
import { hashPartition, hashPartitionRange, xxHash64 } from './partitioner.ts';

const { h64Raw } = await xxhash();

describe('hashPartition', () => {
  it('is xxHash64 with seed 0 (reference vectors)', () => {
    const R = 2 ** 31 - 1;
    assert.equal(hashPartition(new Uint8Array(0), R), Number(0xef46db3751d8e999n % BigInt(R)));
    assert.equal(hashPartition(Buffer.from('a'), R), Number(0xd24ec4f1a98c6e5bn % BigInt(R)));
    assert.equal(hashPartition(Buffer.from('abc'), R), Number(0x44bc2cf5ad770999n % BigInt(R)));
  });

  it('computes the same xxHash64 as xxhash-wasm for any bytes, any length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 150 }), (bytes) => {
        assert.equal(xxHash64(bytes), h64Raw(bytes, 0n));
      }),
      { numRuns: 3000 },
    );
  });

  it('hashes a range where it lies, and takes large moduli exactly', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 70 }),
        fc.nat(10),
        fc.nat(10),
        fc.integer({ min: 1, max: 2 ** 40 }),
        (b, pre, post, R) => {
          const padded = new Uint8Array(pre + b.length + post).fill(0xa5);
          padded.set(b, pre);
          const expected = Number(h64Raw(b, 0n) % BigInt(R));
          assert.equal(hashPartitionRange(padded, pre, pre + b.length, R), expected);
          assert.equal(hashPartition(b, R), expected);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('gives the pinned partitions of encoded keys (a change breaks every stored map output)', () => {
    const pinned: Array<[Key, number, number, number]> = [
      ['the', 0, 832, 580538661],
      ['', 3, 471, 993114579],
      ['hello world', 4, 170, 647572885],
      [42, 1, 790, 2113684976],
      [-1.5, 6, 138, 2027042245],
      [12345678901234567890n, 3, 745, 605744856],
      [['a', 1], 6, 482, 1556869505],
      [null, 1, 960, 799290932],
      [true, 4, 662, 2053823831],
    ];
    for (const [key, r7, r1000, rBig] of pinned) {
      const e = encodeKey(key);
      assert.equal(hashPartition(e, 7), r7, `${String(key)} mod 7`);
      assert.equal(hashPartition(e, 1000), r1000, `${String(key)} mod 1000`);
      assert.equal(hashPartition(e, 2147483647), rBig, `${String(key)} mod 2^31-1`);
      assert.equal(hashPartition(e, 1), 0);
    }
  });

  it('spreads keys about uniformly', () => {
    for (const R of [2, 16, 61]) {
      const counts = new Array<number>(R).fill(0);
      const n = 20_000;
      for (let i = 0; i < n; i++) counts[hashPartition(encodeKey(`word${i}`), R)]++;
      const mean = n / R;
      // Chi-square with R-1 degrees of freedom stays far below this bound for a good hash.
      const chi2 = counts.reduce((s, c) => s + (c - mean) ** 2 / mean, 0);
      assert.ok(chi2 < 3 * R + 30, `R=${R} chi2=${chi2.toFixed(1)} counts=${counts.join(',')}`);
      for (const c of counts) assert.ok(Math.abs(c - mean) < 0.2 * mean + 30, `R=${R} count ${c} vs ${mean}`);
    }
  });
});
