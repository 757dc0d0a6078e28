import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidArgumentError } from 'commander';
import { collectParam, parseRate } from './options.ts';

describe('parseRate', () => {
  test('accepts rates from 0 to 1, both included', () => {
    assert.deepEqual(['0', '0.2', ' 0.5 ', '1'].map(parseRate), [0, 0.2, 0.5, 1]);
  });

  test('refuses anything else, stating the range', () => {
    for (const text of ['1.01', '-0.1', '', 'x', 'NaN']) {
      assert.throws(
        () => parseRate(text),
        (e: unknown) =>
          e instanceof InvalidArgumentError &&
          /from 0 to 1, both included/.test(e.message) &&
          e.message.includes(`'${text}'`),
        text,
      );
    }
  });
});

describe('collectParam', () => {
  test('values stay strings, as with Hadoop -D', () => {
    assert.deepEqual(collectParam('n=3', collectParam('flag=true')), { flag: 'true', n: '3' });
    assert.deepEqual(collectParam('expr=a=b'), { expr: 'a=b' });
  });
});
