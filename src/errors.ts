/**
 * The one error class of tsmr.
 *
 * Every error tsmr raises is a {@link TsmrError} with a stable string `code`
 * (`TSMR_…`, never renamed once released, as undici does with `UND_ERR_…`), a
 * human message that says what the user can do, an optional `cause` (the
 * original error, for example the exception a user's `map` threw) and optional
 * structured `details` (task, attempt, file, byte offset…).
 *
 * Errors cross thread and process boundaries as plain objects
 * ({@link SerializedError}, produced by {@link serializeError}) and are rebuilt
 * by {@link deserializeError}; code, message, stack, details, `retriable` and
 * the cause chain survive the trip. `instanceof TsmrError` is not reliable across realms, so
 * test with {@link isTsmrError}, which checks a brand symbol.
 *
 * Every error also says whether retrying the attempt that raised it can help
 * (`retriable`, Temporal's `nonRetryable` turned around; {@link isRetriable}):
 * the job fails at once, after one attempt, on an error that is not.
 */

/** Stable error codes. Adding a code is fine; renaming one breaks users. */
export const ErrorCode = {
  /** A command-line flag or API option is wrong (exit code 2). */
  USAGE: 'TSMR_USAGE',
  /** An input path, glob or directory matched no readable file (exit code 2). */
  INPUT_NOT_FOUND: 'TSMR_INPUT_NOT_FOUND',
  /** The output directory exists and `overwrite` was not given (exit code 2). */
  OUTPUT_EXISTS: 'TSMR_OUTPUT_EXISTS',
  /** The job module could not be loaded or lacks `map`/`reduce` (exit code 2). */
  BAD_JOB: 'TSMR_BAD_JOB',
  /** A job defined inline cannot be sent to worker threads. */
  JOB_NOT_IMPORTABLE: 'TSMR_JOB_NOT_IMPORTABLE',
  /** A key is not of a supported key type. */
  BAD_KEY: 'TSMR_BAD_KEY',
  /** A value cannot be serialized. */
  BAD_VALUE: 'TSMR_BAD_VALUE',
  /** User code (`map`, `combine`, `reduce`, `partition`) threw. */
  USER_CODE: 'TSMR_USER_CODE',
  /** A combiner emitted a key other than the one it was called with. */
  COMBINER_KEY: 'TSMR_COMBINER_KEY',
  /** A partition function returned something outside `[0, R)`. */
  BAD_PARTITION: 'TSMR_BAD_PARTITION',
  /** A record of a JSONL input is not valid JSON. */
  BAD_RECORD: 'TSMR_BAD_RECORD',
  /** A spill, segment or index failed its checksum or framing check; or a `.gz` or spool input is corrupt. */
  CORRUPT_DATA: 'TSMR_CORRUPT_DATA',
  /**
   * An input file changed (size or modification time, or it ended early)
   * between the planning of the splits and their reading, or the bytes the map
   * tasks read differ from the bytes planned.
   */
  INPUT_CHANGED: 'TSMR_INPUT_CHANGED',
  /** An attempt was crashed on purpose by `--simulate-failures`. */
  INJECTED_FAILURE: 'TSMR_INJECTED_FAILURE',
  /** An attempt made no progress for `taskTimeout`. */
  TASK_TIMEOUT: 'TSMR_TASK_TIMEOUT',
  /** A task failed `maxAttempts` times; the job failed. */
  TASK_FAILED: 'TSMR_TASK_FAILED',
  /** The job was cancelled (signal or Ctrl-C). */
  CANCELLED: 'TSMR_CANCELLED',
  /** `--verify` found a difference between the parallel and the sequential run. */
  VERIFY_MISMATCH: 'TSMR_VERIFY_MISMATCH',
  /** `tsmr teravalidate` found a TeraSort output out of order, or not holding its input's records. */
  INVALID_OUTPUT: 'TSMR_INVALID_OUTPUT',
  /** A streaming command exited non-zero, was killed, or wrote unreadable output. */
  STREAMING_COMMAND: 'TSMR_STREAMING_COMMAND',
  /**
   * A credential was refused: missing, wrong, forged or expired cluster token
   * or shuffle signature. A configuration problem, not lost data: retrying
   * does not help, and a shuffle fetch refused this way is no fetch failure
   * of the map output.
   */
  AUTH: 'TSMR_AUTH',
  /**
   * A cluster coordinator refused a worker's registration: the worker runs
   * another tsmr major.minor version, or the coordinator is shutting down.
   */
  REFUSED: 'TSMR_REFUSED',
  /**
   * A cluster service (the coordinator) cannot be reached, did not answer in
   * time, or went away during a call. Retrying later may help.
   */
  UNAVAILABLE: 'TSMR_UNAVAILABLE',
  /** A file-system operation failed (disk full, permission…). */
  IO: 'TSMR_IO',
  /**
   * Cluster mode: the worker an attempt ran on was lost (its process ended,
   * it missed its heartbeats, or it was fenced), or no worker can run the job.
   */
  WORKER_LOST: 'TSMR_WORKER_LOST',
  /** A cluster RPC message broke the contract's rules (`src/runtime/cluster/wire*.ts`); answered `INVALID_ARGUMENT`. */
  BAD_MESSAGE: 'TSMR_BAD_MESSAGE',
  /** Anything else: a bug in tsmr. */
  INTERNAL: 'TSMR_INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const brand = Symbol.for('tsmr.error');

/** Where an error happened, as far as it is known. */
export interface ErrorDetails {
  jobId?: string;
  taskId?: string;
  attempt?: number;
  /** Input file of the record being processed. */
  file?: string;
  /** Byte offset of that record in `file`. */
  offset?: number;
  /**
   * The attempt failed on that record itself: `map` (or an `emit`, or the
   * partitioner, in it) threw on it, or it could not be parsed. Skip mode
   * (`--skip-bad-records`) skips such records in the task's next attempts;
   * other failures while a record was read (a spill, an injected crash) are not.
   */
  failedOnRecord?: boolean;
  /** Any other JSON-safe facts. */
  [name: string]: unknown;
}

/**
 * Codes of errors that no retry can fix, whoever raises them: the job's
 * definition or settings are wrong, user code emitted or returned something of
 * the wrong type or range, an input record cannot be parsed, or an input file
 * changed. See {@link TsmrError.retriable}.
 */
const nonRetriableCodes: ReadonlySet<string> = new Set([
  ErrorCode.USAGE,
  ErrorCode.INPUT_NOT_FOUND,
  ErrorCode.OUTPUT_EXISTS,
  ErrorCode.BAD_JOB,
  ErrorCode.JOB_NOT_IMPORTABLE,
  ErrorCode.BAD_KEY,
  ErrorCode.BAD_VALUE,
  ErrorCode.BAD_PARTITION,
  ErrorCode.COMBINER_KEY,
  ErrorCode.BAD_RECORD,
  ErrorCode.INPUT_CHANGED,
]);

export class TsmrError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;
  /**
   * False when running the attempt again would fail the same way, so the job
   * fails at once instead of after `maxAttempts` (Temporal's `nonRetryable`,
   * decided where the error is made). The rule:
   *
   * - not retriable by its code: a bad job, option or setting (`TSMR_USAGE`,
   *   `TSMR_BAD_JOB`, `TSMR_JOB_NOT_IMPORTABLE`, `TSMR_INPUT_NOT_FOUND`,
   *   `TSMR_OUTPUT_EXISTS`); a key, value or partition of the wrong type or
   *   range, or a combiner that changed keys (`TSMR_BAD_KEY`, `TSMR_BAD_VALUE`,
   *   `TSMR_BAD_PARTITION`, `TSMR_COMBINER_KEY`): the same code on the same
   *   record does it again; an unparsable input record (`TSMR_BAD_RECORD`) and
   *   a changed input (`TSMR_INPUT_CHANGED`): the input is what it is;
   * - not retriable because the raiser says so (`retriable: false`): a corrupt
   *   input file (`TSMR_CORRUPT_DATA` from the input reader), an input file that
   *   cannot be opened because it is missing, a directory or not permitted
   *   (`TSMR_IO` with `ENOENT`, `EISDIR`, `ENOTDIR`, `EACCES`, `EPERM`);
   * - retriable (the default for every other code): an exception of user code
   *   (`TSMR_USER_CODE`, `TSMR_STREAMING_COMMAND`: it may be flaky), other I/O
   *   errors (a full disk while spilling, a read error), corrupt intermediate
   *   data (a spill or shuffle segment: the map is run again), timeouts and
   *   injected failures.
   */
  readonly retriable: boolean;
  declare readonly [brand]: true;

  /** @param options.retriable overrides the default of `code` (see {@link TsmrError.retriable}). */
  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: ErrorDetails; retriable?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
    this.retriable = options.retriable ?? !nonRetriableCodes.has(code);
    Object.defineProperty(this, brand, { value: true });
  }

  override get name(): string {
    return 'TsmrError';
  }
}

/** True for a {@link TsmrError} from any realm (thread, vm context). */
export function isTsmrError(value: unknown): value is TsmrError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}

/**
 * True unless `error` is a {@link TsmrError} that says no retry can fix it
 * ({@link TsmrError.retriable}). Errors of other kinds (a worker thread that
 * died, an executor's own failure) are retriable.
 */
export function isRetriable(error: unknown): boolean {
  return !isTsmrError(error) || error.retriable;
}

/** Plain-object form of an error, safe for `postMessage`, JSON and RPC. */
export interface SerializedError {
  name: string;
  code?: string;
  message: string;
  stack?: string;
  details?: ErrorDetails;
  /** {@link TsmrError.retriable}; absent for other errors. */
  retriable?: boolean;
  cause?: SerializedError;
}

/** Turns any thrown value into a {@link SerializedError} (cause chain up to depth 8). */
export function serializeError(error: unknown, depth = 0): SerializedError {
  if (error instanceof Error || (typeof error === 'object' && error !== null && 'message' in error)) {
    const e = error as Error & { code?: unknown; details?: ErrorDetails; retriable?: unknown };
    const out: SerializedError = { name: String(e.name ?? 'Error'), message: String(e.message) };
    if (typeof e.code === 'string') out.code = e.code;
    if (typeof e.stack === 'string') out.stack = e.stack;
    if (e.details && typeof e.details === 'object') out.details = JSON.parse(JSON.stringify(e.details));
    if (typeof e.retriable === 'boolean') out.retriable = e.retriable;
    if (e.cause !== undefined && depth < 8) out.cause = serializeError(e.cause, depth + 1);
    return out;
  }
  return { name: 'Error', message: String(error) };
}

/** Rebuilds an error from {@link serializeError}; a `TSMR_` code yields a {@link TsmrError}. */
export function deserializeError(s: SerializedError): Error {
  const cause = s.cause ? deserializeError(s.cause) : undefined;
  let error: Error;
  if (s.code?.startsWith('TSMR_')) {
    error = new TsmrError(s.code as ErrorCode, s.message, {
      cause,
      details: s.details,
      retriable: s.retriable,
    });
  } else {
    error = new Error(s.message, cause === undefined ? undefined : { cause });
    if (s.name !== 'Error') Object.defineProperty(error, 'name', { value: s.name });
    if (s.code !== undefined) Object.assign(error, { code: s.code });
  }
  if (s.stack !== undefined) error.stack = s.stack;
  return error;
}

/** Process exit codes of the CLI (stable). */
export const ExitCode = {
  OK: 0,
  /** The job ran and failed (a task exhausted its attempts, verification failed…). */
  JOB_FAILED: 1,
  /** Bad usage or bad job input, detected before any task ran; nothing was written. */
  USAGE: 2,
  /** Interrupted (SIGINT/SIGTERM). */
  INTERRUPTED: 130,
} as const;

const usageCodes: ReadonlySet<string> = new Set([
  ErrorCode.USAGE,
  ErrorCode.INPUT_NOT_FOUND,
  ErrorCode.OUTPUT_EXISTS,
  ErrorCode.BAD_JOB,
  ErrorCode.JOB_NOT_IMPORTABLE,
  // A refused cluster token is a configuration error: nothing was submitted or run.
  ErrorCode.AUTH,
]);

/** The exit code the CLI uses for an error. */
export function exitCodeFor(error: unknown): number {
  if (isTsmrError(error)) {
    if (usageCodes.has(error.code)) return ExitCode.USAGE;
    if (error.code === ErrorCode.CANCELLED) return ExitCode.INTERRUPTED;
  }
  return ExitCode.JOB_FAILED;
}

/** Shorthand for a usage error (exit code 2). */
export function usageError(message: string, details?: ErrorDetails): TsmrError {
  return new TsmrError(ErrorCode.USAGE, message, { details });
}
