import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { StringTable, stringHash } from './string-table.ts';

describe('StringTable', () => {
  it('maps strings to ids like a Map, through growth, for any strings', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', '\ud800', 'a\u0000')),
          {
            maxLength: 3000,
          },
        ),
        fc.array(fc.string(), { maxLength: 50 }),
        (keys, probes) => {
          const table = new StringTable();
          const ref = new Map<string, number>();
          for (const k of keys) {
            if (ref.has(k)) continue;
            table.set(k, 7 * ref.size);
            ref.set(k, 7 * ref.size);
          }
          assert.equal(table.size, ref.size);
          for (const k of [...keys, ...probes]) assert.equal(table.get(k), ref.get(k) ?? -1);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('finds 200 000 keys whose slots collide in the low bits, and none it was not given', () => {
    const table = new StringTable();
    const keys: string[] = [];
    for (let i = 0; keys.length < 200_000; i++) {
      const k = `k${i}`;
      // Keep keys that share their hash's low 4 bits: denser clusters of probes.
      if ((stringHash(k) & 15) === 0) keys.push(k);
    }
    keys.forEach((k, i) => table.set(k, i));
    keys.forEach((k, i) => assert.equal(table.get(k), i));
    assert.equal(table.get('k1'), (stringHash('k1') & 15) === 0 ? keys.indexOf('k1') : -1);
    assert.equal(table.get('absent'), -1);
  });

  it('hashes are 32-bit integers that differ for near strings', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 10_000; i++) {
      const h = stringHash(`word${i}`);
      assert.equal(h, h | 0);
      seen.add(h);
    }
    assert.ok(seen.size > 9_990);
  });
});
