import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isTsmrError } from '../errors.ts';
import { readMapOutputIndex, segmentRefOf, writeMapOutputIndex } from './map-output.ts';
import { tempDir } from './test-support.ts';

describe('map output index', () => {
  it('round-trips and yields segment refs', (t) => {
    const path = join(tempDir(t), 'm.index.json');
    const partitions = [
      { offset: 0, length: 10, records: 2, crc32: 123 },
      { offset: 10, length: 0, records: 0, crc32: 0 },
      { offset: 10, length: 5, records: 1, crc32: 4294967295 },
    ];
    writeMapOutputIndex(path, partitions);
    assert.deepEqual(readMapOutputIndex(path, 'm-1'), partitions);
    assert.deepEqual(segmentRefOf({ dataPath: '/d', partitions }, 2, 'm-1'), {
      path: '/d',
      offset: 10,
      length: 5,
      records: 1,
      crc32: 4294967295,
      source: 'm-1',
    });
  });

  it('reports a missing or invalid index as TSMR_CORRUPT_DATA naming the map task', (t) => {
    const dir = tempDir(t);
    const cases = [
      '{',
      '{}',
      '{"partitions":[{"offset":0,"length":-1,"records":0,"crc32":0}]}',
      '{"partitions":[{"offset":5,"length":5,"records":1,"crc32":0},{"offset":0,"length":1,"records":1,"crc32":0}]}',
    ];
    cases.forEach((text, i) => writeFileSync(join(dir, `${i}`), text));
    for (const name of [...cases.keys()].map(String).concat('missing')) {
      assert.throws(
        () => readMapOutputIndex(join(dir, name), 'm-00009'),
        (e: unknown) => isTsmrError(e) && e.code === 'TSMR_CORRUPT_DATA' && e.details.source === 'm-00009',
        name,
      );
    }
  });
});
