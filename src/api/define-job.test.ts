/** Validation of job definitions: `combineValues`, `groupBy`, `inputs` and `files`. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, TsmrError } from '../errors.ts';
import { defineJob, validateJobDefinition } from './define-job.ts';

const map = (): void => {};
const reduce = (): void => {};

const badJob = (pattern: RegExp) => (e: unknown) =>
  e instanceof TsmrError && e.code === ErrorCode.BAD_JOB && pattern.test(e.message);

test('combineValues is accepted and kept by defineJob', () => {
  const sum = (a: number, b: number): number => a + b;
  const job = defineJob<number, string, string, number>({ map, reduce, combineValues: sum });
  assert.equal(job.combineValues, sum);
});

test('combineValues must be a function', () => {
  assert.throws(
    () => validateJobDefinition({ map, reduce, combineValues: 'sum' }, 'test'),
    badJob(/^test: the job's combineValues must be a function/),
  );
});

test('combine and combineValues together are refused', () => {
  assert.throws(
    () => validateJobDefinition({ map, reduce, combine: () => {}, combineValues: (a: number) => a }, 'x.ts'),
    badJob(/^x\.ts: the job has both combine and combineValues; give one/),
  );
  validateJobDefinition({ map, reduce, combineValues: undefined, combine: () => {} }, 'x.ts');
});

test('combineValues and partition must be synchronous: async functions are refused', () => {
  assert.throws(
    () =>
      validateJobDefinition({ map, reduce, combineValues: async (a: number, b: number) => a + b }, 'x.ts'),
    badJob(/^x\.ts: the job's combineValues is an async function; it must be synchronous/),
  );
  assert.throws(
    () => validateJobDefinition({ map, reduce, partition: async () => 0 }, 'x.ts'),
    badJob(/^x\.ts: the job's partition is an async function/),
  );
  validateJobDefinition({ map: async () => {}, reduce: async () => {}, partition: () => 0 }, 'x.ts');
});

test('groupBy must be an integer >= 1', () => {
  for (const groupBy of [0, -1, 1.5, '1', Number.NaN]) {
    assert.throws(
      () => validateJobDefinition({ map, reduce, groupBy }, 'g.ts'),
      badJob(/^g\.ts: groupBy must be an integer >= 1 \(the number of leading tuple-key elements/),
    );
  }
  assert.equal(defineJob({ map, reduce, groupBy: 2 }).groupBy, 2);
});

test('inputs: each needs paths and a map of its own or the job’s; the job’s map dispatches by ctx.input', () => {
  const calls: string[] = [];
  const job = defineJob({
    inputs: [
      { paths: 'a', map: (k: unknown) => void calls.push(`a:${String(k)}`) },
      { paths: ['b', 'c'], map: (k: unknown) => void calls.push(`b:${String(k)}`) },
    ],
    reduce,
  });
  void job.map(1, 'x', { input: 1 } as never);
  void job.map(2, 'y', { input: 0 } as never);
  assert.deepEqual(calls, ['b:1', 'a:2']);
  validateJobDefinition({ map, reduce, inputs: [{ paths: () => 'p' }] }, 'ok.ts');
  const refused: [unknown, RegExp][] = [
    [[], /inputs must be a non-empty array of \{ paths, map\?, inputFormat\? \}/],
    [[{ paths: '', map }], /inputs\[0\]\.paths must be a path/],
    [[{ paths: 'a', map }, { paths: 'b' }], /inputs\[1\] has no map, and the job has no map for it to use/],
    [[{ paths: 'a', map: 'm' }], /inputs\[0\]\.map must be a function/],
  ];
  for (const [inputs, message] of refused) {
    assert.throws(() => validateJobDefinition({ reduce, inputs }, 'j.ts'), badJob(message));
  }
  assert.throws(() => validateJobDefinition({ reduce }, 'j.ts'), badJob(/the job has no map function/));
  assert.throws(
    () => validateJobDefinition({ map, reduce, files: ['ok', ''] }, 'j.ts'),
    badJob(/files must be an array of paths/),
  );
});
