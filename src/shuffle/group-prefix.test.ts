import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Key } from '../api/types.ts';
import { isTsmrError } from '../errors.ts';
import { checkGroupKey, prefixPartition } from './group-prefix.ts';
import { encodeKey } from './key-codec.ts';
import { anyKey } from './test-support.ts';

describe('prefixPartition', () => {
  it('puts keys with equal prefixes in one partition, and spreads prefixes', () => {
    fc.assert(
      fc.property(
        fc.array(anyKey, { minLength: 1, maxLength: 3 }),
        fc.array(anyKey, { maxLength: 3 }),
        fc.array(anyKey, { maxLength: 3 }),
        fc.integer({ min: 1, max: 1000 }),
        (prefix, restA, restB, r) => {
          const partition = prefixPartition(prefix.length, r);
          const a = partition(encodeKey([...prefix, ...restA]));
          assert.equal(partition(encodeKey([...prefix, ...restB])), a);
          assert.ok(Number.isInteger(a) && a >= 0 && a < r);
        },
      ),
      { numRuns: 2000 },
    );
    const partition = prefixPartition(1, 8);
    const used = new Set(Array.from({ length: 200 }, (_, i) => partition(encodeKey([`domain-${i}`, i]))));
    assert.equal(used.size, 8, '200 prefixes fill all 8 partitions');
  });
});

describe('checkGroupKey', () => {
  it('accepts arrays of at least n elements', () => {
    checkGroupKey(['a', 1], 2);
    checkGroupKey(['a', 1, 2], 2);
  });

  it('refuses anything else with TSMR_BAD_KEY saying what to emit', () => {
    const refused = (key: Key, n: number, what: RegExp): void =>
      assert.throws(
        () => checkGroupKey(key, n),
        (e: unknown) =>
          isTsmrError(e) &&
          e.code === 'TSMR_BAD_KEY' &&
          what.test(e.message) &&
          e.message.includes(`groupBy: ${n} groups tuple keys`),
      );
    refused('a', 1, /the key "a" is not an array/);
    refused(['a'], 2, /the key \["a"\] has 1 element:.*emit arrays of at least 2 elements/);
    refused(7n, 1, /the key "7n" is not an array/);
  });
});
