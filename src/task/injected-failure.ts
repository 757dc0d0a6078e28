import { ErrorCode, TsmrError } from '../errors.ts';

/** The error an attempt crashed by `--simulate-failures` throws. */
export function injectedFailure(taskId: string, attempt: number): TsmrError {
  return new TsmrError(
    ErrorCode.INJECTED_FAILURE,
    `attempt ${attempt} of ${taskId} crashed on purpose (--simulate-failures)`,
    {
      details: { taskId, attempt },
    },
  );
}
