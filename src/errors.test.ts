import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deserializeError, ErrorCode, isRetriable, serializeError, TsmrError } from './errors.ts';

describe('retriable', () => {
  test('follows the code unless the raiser says otherwise', () => {
    for (const code of [
      ErrorCode.USAGE,
      ErrorCode.BAD_JOB,
      ErrorCode.JOB_NOT_IMPORTABLE,
      ErrorCode.BAD_KEY,
      ErrorCode.BAD_VALUE,
      ErrorCode.BAD_RECORD,
      ErrorCode.INPUT_CHANGED,
    ]) {
      assert.equal(new TsmrError(code, 'x').retriable, false, code);
    }
    for (const code of [
      ErrorCode.USER_CODE,
      ErrorCode.IO,
      ErrorCode.CORRUPT_DATA,
      ErrorCode.INJECTED_FAILURE,
      ErrorCode.STREAMING_COMMAND,
    ]) {
      assert.equal(new TsmrError(code, 'x').retriable, true, code);
    }
    assert.equal(new TsmrError(ErrorCode.CORRUPT_DATA, 'bad gzip', { retriable: false }).retriable, false);
    assert.equal(new TsmrError(ErrorCode.BAD_KEY, 'x', { retriable: true }).retriable, true);
  });

  test('survives serializeError/deserializeError, also when it differs from the default', () => {
    const gz = new TsmrError(ErrorCode.CORRUPT_DATA, 'bad gzip', { retriable: false });
    const s = serializeError(gz);
    assert.equal(s.retriable, false);
    const back = JSON.parse(JSON.stringify(s)) as typeof s;
    assert.equal(isRetriable(deserializeError(back)), false);
    assert.equal(
      isRetriable(deserializeError(serializeError(new TsmrError(ErrorCode.IO, 'disk full')))),
      true,
    );
    assert.equal(serializeError(new Error('plain')).retriable, undefined);
  });

  test('isRetriable: errors that are not TsmrErrors are retriable', () => {
    assert.equal(isRetriable(new Error('worker died')), true);
    assert.equal(isRetriable('a string'), true);
    assert.equal(isRetriable(new TsmrError(ErrorCode.BAD_KEY, 'x')), false);
  });
});
