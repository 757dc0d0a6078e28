/**
 * The sorted key layout (`sorted-keys.ts`) against a reference sort: keys
 * added in batches (as a fold table kept from task to task gets them) are
 * laid out in (partition, key) order, each key's bytes at its position.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { mergeSortedKeys, noSortedKeys, type SortedKeys } from './sorted-keys.ts';

/** Keys as an arena and a metadata array (partition, start, end per id), as `KeyIndex` keeps them. */
function arenaOf(keys: Array<{ partition: number; key: Uint8Array }>): { arena: Buffer; meta: Uint32Array } {
  const arena = Buffer.concat(keys.map((k) => k.key));
  const meta = new Uint32Array(3 * keys.length);
  let pos = 0;
  keys.forEach((k, id) => {
    meta.set([k.partition, pos, pos + k.key.length], 3 * id);
    pos += k.key.length;
  });
  return { arena, meta };
}

/** Ids `[from, to)` in (partition, key bytes) order. */
function referenceOrder(
  keys: Array<{ partition: number; key: Uint8Array }>,
  from: number,
  to: number,
): number[] {
  const ids = Array.from({ length: to - from }, (_, i) => from + i);
  return ids.sort(
    (a, b) => keys[a]!.partition - keys[b]!.partition || Buffer.compare(keys[a]!.key, keys[b]!.key),
  );
}

describe('sorted keys', () => {
  it('merges batches of new keys into the layout in (partition, key) order', () => {
    const entry = fc.record({
      partition: fc.integer({ min: 0, max: 2 }),
      key: fc.uint8Array({ maxLength: 12 }),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(entry, { selector: (e) => Buffer.from(e.key).toString('latin1'), maxLength: 60 }),
        fc.array(fc.nat(), { maxLength: 3 }),
        (keys, cuts) => {
          const { arena, meta } = arenaOf(keys);
          // Batches end at these sizes, then at all keys.
          const ends = [...cuts.map((c) => c % (keys.length + 1)).sort((a, b) => a - b), keys.length];
          let sorted: SortedKeys = noSortedKeys(3);
          let known = 0;
          for (const end of ends) {
            const added = Uint32Array.from(referenceOrder(keys, known, end));
            sorted = mergeSortedKeys(sorted, added, meta, arena, 3);
            known = end;
            assert.deepEqual([...sorted.ids], referenceOrder(keys, 0, end));
            for (let j = 0; j < sorted.ids.length; j++) {
              const key = sorted.bytes.subarray(sorted.starts[j], sorted.starts[j + 1]);
              assert.deepEqual(key, Buffer.from(keys[sorted.ids[j]!]!.key));
            }
            for (let p = 0; p < 3; p++) {
              const inP = referenceOrder(keys, 0, end).filter((id) => keys[id]!.partition === p).length;
              assert.equal(sorted.partitionStarts[p + 1]! - sorted.partitionStarts[p]!, inP);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
