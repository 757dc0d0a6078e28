/**
 * Which failures of a map attempt a record itself caused, so that skip mode
 * (`--skip-bad-records`) can leave that record out of the task's next
 * attempts (Google MapReduce §3.7: "the master … indicates that the record
 * should be skipped"). The map task marks them (`details.failedOnRecord`),
 * the job driver reads the mark from the failed attempt's error.
 *
 * A record is to blame when `map` threw on it (or an `emit`, a partitioner or
 * the `groupBy` key check in it), or when it could not be parsed (invalid
 * JSON, marked by the reader). Not: a spill or combiner failing while the
 * record was being read, an injected crash, a kill, a timeout, a thread that
 * died. Those carry no mark and are retried as usual.
 */
import { ErrorCode, isTsmrError, type SerializedError, TsmrError } from '../errors.ts';
import type { MapperBody } from './job-body.ts';
import type { BadRecord } from './messages.ts';
import { isThenable } from './module-job-body.ts';

/** Codes of the failures a record can cause (user code, bad key, value or partition, unparsable input). */
const RECORD_FAILURE_CODES: ReadonlySet<string> = new Set([
  ErrorCode.USER_CODE,
  ErrorCode.BAD_KEY,
  ErrorCode.BAD_VALUE,
  ErrorCode.BAD_PARTITION,
  ErrorCode.BAD_RECORD,
]);

/** Longest error message kept with a bad record (task messages carry them to every later attempt). */
const MAX_MESSAGE = 2000;

/**
 * `mapper`, whose failures on a record are marked `details.failedOnRecord`
 * (an error that is no `TsmrError` becomes `TSMR_USER_CODE` with the original
 * as its cause, as the record reader would make it). Errors of other codes
 * (a kill: `TSMR_CANCELLED`) pass unmarked.
 */
export function markingRecordFailures(mapper: MapperBody): MapperBody {
  return {
    record(key, value) {
      let result: void | Promise<void>;
      try {
        result = mapper.record(key, value);
      } catch (error) {
        throw marked(error);
      }
      if (isThenable(result)) {
        return Promise.resolve(result).then(undefined, (error: unknown) => {
          throw marked(error);
        });
      }
    },
    close: () => mapper.close?.(),
    abort: () => mapper.abort?.(),
  };
}

function marked(error: unknown): unknown {
  if (isTsmrError(error)) {
    if (RECORD_FAILURE_CODES.has(error.code)) error.details.failedOnRecord = true;
    return error;
  }
  const message = error instanceof Error ? error.message : String(error);
  return new TsmrError(ErrorCode.USER_CODE, message, { cause: error, details: { failedOnRecord: true } });
}

/** The record a failed map attempt's error blames, or undefined when no record is to blame. */
export function failedRecord(error: SerializedError): BadRecord | undefined {
  const d = error.details;
  if (
    d?.failedOnRecord !== true ||
    typeof d.file !== 'string' ||
    typeof d.offset !== 'number' ||
    error.code === undefined ||
    !RECORD_FAILURE_CODES.has(error.code)
  ) {
    return undefined;
  }
  const message =
    error.message.length > MAX_MESSAGE ? `${error.message.slice(0, MAX_MESSAGE)}…` : error.message;
  const record: BadRecord = { file: d.file, offset: d.offset, error: { code: error.code, message } };
  if (typeof d.index === 'number') record.index = d.index;
  return record;
}
