/** Validation of job definitions: the `combineValues` and `groupBy` members. */
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
