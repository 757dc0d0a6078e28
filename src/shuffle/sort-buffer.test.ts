import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Key } from '../api/types.ts';
import { isTsmrError } from '../errors.ts';
import { decodeKey, encodeKey } from './key-codec.ts';
import { BufferRecordCursor } from './record-format.ts';
import { RunWriter } from './run-writer.ts';
import { SORT_BUFFER_BYTES_PER_RECORD, SortBuffer } from './sort-buffer.ts';
import { tempDir } from './test-support.ts';
import { decodeValue, encodeValue } from './value-codec.ts';

describe('SortBuffer', () => {
  it('accounts bytes, sorts by (partition, key, emit order) and empties on spill', (t) => {
    const buffer = new SortBuffer(2, (e) => e[e.length - 1] % 2, 1000);
    const pairs: Array<[Key, number]> = [
      ['b', 1],
      ['a', 2],
      ['c', 3],
      ['b', 4],
      ['a', 5],
    ];
    let bytes = 0;
    for (const [k, v] of pairs) {
      buffer.add(k, v);
      bytes += encodeKey(k).length + encodeValue(v).length;
    }
    assert.equal(buffer.records, 5);
    assert.equal(buffer.emittedBytes, bytes);
    assert.equal(buffer.bytes, bytes + 5 * SORT_BUFFER_BYTES_PER_RECORD);
    const path = join(tempDir(t), 'run');
    const w = new RunWriter(path, 2);
    assert.equal(buffer.spillTo(w), 5);
    const segments = w.close();
    assert.equal(buffer.records, 0);
    assert.equal(buffer.bytes, 0);
    const file = readFileSync(path);
    const read = (p: number): Array<[Key, unknown]> => {
      const c = new BufferRecordCursor(file, segments[p].offset, segments[p].offset + segments[p].length);
      const out: Array<[Key, unknown]> = [];
      while (c.next())
        out.push([decodeKey(c.buf, c.keyStart, c.keyEnd), decodeValue(c.buf, c.valueStart, c.valueEnd)]);
      return out;
    };
    // 'a' = 0x61 and 'c' = 0x63 are odd: partition 1; 'b' is partition 0.
    assert.deepEqual(read(0), [
      ['b', 1],
      ['b', 4],
    ]);
    assert.deepEqual(read(1), [
      ['a', 2],
      ['a', 5],
      ['c', 3],
    ]);
  });

  it('adds nothing when a key, value or partition is bad', () => {
    const buffer = new SortBuffer(
      2,
      (_e, k) =>
        k === 'boom'
          ? (() => {
              throw new Error('boom');
            })()
          : 0,
      1000,
    );
    buffer.add('ok', 1);
    const before = buffer.bytes;
    assert.throws(
      () => buffer.add('ok', () => 0),
      (e: unknown) => isTsmrError(e) && e.code === 'TSMR_BAD_VALUE',
    );
    assert.throws(
      () => buffer.add(undefined as unknown as Key, 0),
      (e: unknown) => isTsmrError(e) && e.code === 'TSMR_BAD_KEY',
    );
    assert.throws(() => buffer.add('boom', 0), /boom/);
    assert.equal(buffer.bytes, before);
    assert.equal(buffer.records, 1);
  });
});
