/**
 * The `TSMR_IO` error of a failed file-system operation.
 */
import { ErrorCode, TsmrError } from '../errors.ts';
import type { ErrorDetails } from '../errors.ts';

/**
 * A `TsmrError` `TSMR_IO` whose message is `<message>: <the cause's message>`
 * (e.g. `cannot write the output file /out/part-r-00000: ENOSPC: no space left on device, write`).
 * @param message what failed, naming the path.
 * @param cause the original error, kept as `cause`.
 * @param details usually `{ file }` or `{ path }`.
 * @param options.retriable false when no retry can fix it (default true; see `TsmrError.retriable`).
 */
export function ioError(
  message: string,
  cause: unknown,
  details: ErrorDetails,
  options: { retriable?: boolean } = {},
): TsmrError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new TsmrError(ErrorCode.IO, `${message}: ${reason}`, {
    cause,
    details,
    retriable: options.retriable,
  });
}
