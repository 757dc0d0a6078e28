/**
 * The built-in validations of a finished job (DESIGN.md §4): what must hold
 * before a job commits.
 */
import type { JobReport } from '../engine/job-report.ts';
import { ErrorCode, TsmrError } from '../errors.ts';
import { inputBytesDiffer } from '../io/input-change.ts';

/**
 * The error that fails a job whose report shows a failed validation, or
 * `undefined` when all hold. The input check comes first: a changed input
 * also explains a shuffle that does not add up.
 * @returns `TSMR_INPUT_CHANGED` when the committed map attempts read other
 *   than the planned input bytes; `TSMR_INTERNAL` when map output records
 *   differ from reduce input records.
 */
export function validationError(
  report: Pick<JobReport, 'validation' | 'counters' | 'phases'>,
): TsmrError | undefined {
  const { validation, counters, phases } = report;
  if (!validation.inputBytesMatch) {
    return inputBytesDiffer(counters['tsmr/MAP_INPUT_BYTES'] ?? 0, phases.map?.inputBytes ?? 0);
  }
  if (!validation.shuffleRecordsMatch) {
    return new TsmrError(
      ErrorCode.INTERNAL,
      'validation failed: map output records differ from reduce input records',
    );
  }
  return undefined;
}
