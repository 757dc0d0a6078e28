import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseShufflePath, shufflePath } from './shuffle-protocol.ts';

const JOB = 'job-20261201-121943-a1b2c3';

describe('shuffle paths', () => {
  it('round-trips a segment address', () => {
    const address = { jobId: JOB, mapAttemptId: 'm-00003_1', partition: 7 };
    assert.equal(shufflePath(address), `/shuffle/${JOB}/m-00003_1/7`);
    assert.deepEqual(parseShufflePath(shufflePath(address)), address);
    assert.deepEqual(parseShufflePath(`/shuffle/${JOB}/m-123456_0/0`)?.partition, 0);
  });

  it('rejects anything but the exact form: traversal, encodings, queries, bad ids and partitions', () => {
    const bad = [
      '/shuffle/../../etc/passwd',
      `/shuffle/${JOB}/m-00003_1/../../../etc/passwd`,
      `/shuffle/${JOB}/..%2f..%2fetc%2fpasswd/0`,
      `/shuffle/%2e%2e/m-00003_1/0`,
      `/shuffle/${JOB}/m-00003_1/%30`,
      '/etc/passwd',
      '//etc/passwd',
      `http://example.org/shuffle/${JOB}/m-00003_1/0`,
      `/shuffle/${JOB}/m-00003_1/0?x=1`,
      `/shuffle/${JOB}/m-00003_1/0/`,
      `/shuffle/${JOB}//m-00003_1/0`,
      `/SHUFFLE/${JOB}/m-00003_1/0`,
      `/shuffle/job-2026-121943-a1b2c3/m-00003_1/0`,
      `/shuffle/${JOB}/m-00003_1/-1`,
      `/shuffle/${JOB}/m-00003_1/01`,
      `/shuffle/${JOB}/m-00003_1/1e3`,
      `/shuffle/${JOB}/m-00003_1/9999999999`,
      `/shuffle/${JOB}/m-00003_1/99999999999999999999999999`,
      '',
    ];
    for (const target of bad) assert.equal(parseShufflePath(target), undefined, target);
    assert.throws(() => shufflePath({ jobId: '../x', mapAttemptId: 'm-00003_1', partition: 0 }), TypeError);
    assert.throws(() => shufflePath({ jobId: JOB, mapAttemptId: 'm-00003_1', partition: 1.5 }), TypeError);
  });
});
