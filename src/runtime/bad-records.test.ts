import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SerializedError } from '../errors.ts';
import { BadRecords } from './bad-records.ts';

const onRecord = (offset: number, file = '/in/a.txt'): SerializedError => ({
  name: 'TsmrError',
  code: 'TSMR_USER_CODE',
  message: `map failed on the record at byte ${offset} of ${file}: boom`,
  details: { file, offset, failedOnRecord: true },
});

test('off (max 0): nothing is judged and attempts get no skip list', () => {
  const bad = new BadRecords(0);
  assert.equal(bad.forTask('m-00000'), undefined);
  assert.equal(bad.failed('m-00000', onRecord(1)), undefined);
  assert.equal(bad.report(), undefined);
});

test('records are skipped once per task, up to max in all tasks; the next one fails the job', () => {
  const bad = new BadRecords(2);
  assert.deepEqual(bad.forTask('m-00001'), []);
  assert.equal(bad.failed('m-00001', onRecord(5))?.kind, 'skip');
  assert.equal(bad.failed('m-00001', onRecord(5)), undefined, 'skipped already: a failure like any other');
  const unmarked = { ...onRecord(9), details: { file: '/in/a.txt', offset: 9 } };
  assert.equal(bad.failed('m-00001', unmarked), undefined, 'no record to blame');
  assert.equal(bad.failed('m-00000', onRecord(7, '/in/b.txt'))?.kind, 'skip');
  assert.deepEqual(
    bad.forTask('m-00001')?.map((r) => r.offset),
    [5],
  );
  const verdict = bad.failed('m-00002', onRecord(3));
  assert.equal(verdict?.kind, 'tooMany');
  const error = verdict?.kind === 'tooMany' ? verdict.error : undefined;
  assert.equal(error?.code, 'TSMR_TASK_FAILED');
  assert.match(
    error?.message ?? '',
    /byte 3 .*one bad record more than --skip-bad-records 2 allows \(2 skipped/,
  );
  assert.equal(error?.cause?.code, 'TSMR_USER_CODE');
  assert.deepEqual(bad.report(), {
    count: 2,
    max: 2,
    listed: [
      {
        taskId: 'm-00000',
        file: '/in/b.txt',
        offset: 7,
        error: { code: 'TSMR_USER_CODE', message: onRecord(7, '/in/b.txt').message },
      },
      {
        taskId: 'm-00001',
        file: '/in/a.txt',
        offset: 5,
        error: { code: 'TSMR_USER_CODE', message: onRecord(5).message },
      },
    ],
  });
});
