/**
 * Skip mode's bookkeeping in the job driver (`--skip-bad-records <max>`;
 * Google MapReduce §3.7, Hadoop's `SkipBadRecords`): per map task, the
 * records its failed attempts were blamed for (`failedRecord`), which every
 * later attempt of the task leaves out. The scheduler stays pure: this table
 * is the driver's, fed from attempt failures, and travels to attempts in
 * their task messages.
 *
 * Choices:
 * - A record is skipped after one failure on it (Google skips after "more
 *   than one failure on a particular record", Hadoop after two failed
 *   attempts): the failure names the record exactly, so a second failure
 *   would only confirm what the first said.
 * - A failure that adds a record does not count against `maxAttempts` (the
 *   next attempt differs), so a task may skip more records than it has
 *   attempts; `max` bounds such failures for the whole job: the record that
 *   would be skipped beyond it fails the job with `TSMR_TASK_FAILED`.
 * - Reduce tasks skip nothing (Hadoop can also skip reduce groups): a reduce
 *   failure is retried as usual.
 */
import { MAX_LISTED_SKIPPED_RECORDS, type SkippedRecordsReport } from '../engine/job-report.ts';
import type { BadRecord } from '../task/messages.ts';
import { deserializeError, ErrorCode, type SerializedError, serializeError, TsmrError } from '../errors.ts';
import { failedRecord } from '../task/record-failure.ts';

/** How the driver reports a failed map attempt to the scheduler. */
export type FailureVerdict =
  /** Its record is now skipped: retry, not counted. */
  | { kind: 'skip'; record: BadRecord }
  /** Its record would be one more than allowed: fail the job with `error`. */
  | { kind: 'tooMany'; error: SerializedError };

export class BadRecords {
  /** `--skip-bad-records`; 0: skip mode is off. */
  readonly max: number;
  private readonly byTask = new Map<string, BadRecord[]>();
  private total = 0;

  constructor(max: number) {
    this.max = max;
  }

  /** The records a new attempt of `taskId` leaves out; undefined when skip mode is off. */
  forTask(taskId: string): BadRecord[] | undefined {
    if (this.max === 0) return undefined;
    return [...(this.byTask.get(taskId) ?? [])];
  }

  /**
   * Judges the error of a failed attempt of map task `taskId`: undefined when
   * skip mode is off, no record is to blame, or its record is skipped already
   * (then the failure counts as usual).
   */
  failed(taskId: string, error: SerializedError): FailureVerdict | undefined {
    if (this.max === 0) return undefined;
    const record = failedRecord(error);
    if (record === undefined) return undefined;
    const records = this.byTask.get(taskId) ?? [];
    if (records.some((r) => r.offset === record.offset && r.file === record.file)) return undefined;
    if (this.total >= this.max) {
      const cause = deserializeError(error);
      const tooMany = new TsmrError(
        ErrorCode.TASK_FAILED,
        `${error.message} — one bad record more than --skip-bad-records ${this.max} allows ` +
          `(${this.total} skipped already): fix the input or the map function, or raise the limit`,
        { cause, details: { taskId, file: record.file, offset: record.offset } },
      );
      return { kind: 'tooMany', error: serializeError(tooMany) };
    }
    records.push(record);
    this.byTask.set(taskId, records);
    this.total++;
    return { kind: 'skip', record };
  }

  /** The report of the records skipped, or undefined when none was. */
  report(): SkippedRecordsReport | undefined {
    if (this.total === 0) return undefined;
    const listed: SkippedRecordsReport['listed'] = [];
    for (const [taskId, records] of [...this.byTask].sort(([a], [b]) => (a < b ? -1 : 1))) {
      for (const r of records) if (listed.length < MAX_LISTED_SKIPPED_RECORDS) listed.push({ taskId, ...r });
    }
    return { count: this.total, max: this.max, listed };
  }
}
