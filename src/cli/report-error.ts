import { ErrorCode, isTsmrError } from '../errors.ts';

/** What the user can do, per error code. */
const hints: Partial<Record<string, string>> = {
  [ErrorCode.TASK_FAILED]:
    'fix the job (or the input record named above) and run again; for flaky failures raise --max-attempts',
  [ErrorCode.INPUT_NOT_FOUND]:
    'check the --input paths (directories are read recursively; names starting with . or _ are skipped)',
  [ErrorCode.BAD_JOB]: 'a job module must `export default defineJob({ map, reduce })`',
  [ErrorCode.VERIFY_MISMATCH]:
    'the job is not deterministic: map, combine and reduce must depend only on their input',
};

/** Errors whose causes are shown with their stacks: where user code (or tsmr itself) threw. */
const stackCodes: ReadonlySet<string> = new Set([
  ErrorCode.TASK_FAILED,
  ErrorCode.USER_CODE,
  ErrorCode.INTERNAL,
]);

/**
 * Prints an error for a person: the message, where it happened, the cause
 * chain (with stacks for user-code errors and bugs; a refused token or an
 * unreachable coordinator gets messages only), never a bare stack trace.
 */
export function reportError(error: unknown): void {
  const lines: string[] = [];
  if (isTsmrError(error)) {
    lines.push(`tsmr: error ${error.code}: ${error.message}`);
  } else {
    lines.push(`tsmr: error: ${(error as Error)?.message ?? String(error)}`);
  }
  const stacks = !isTsmrError(error) || stackCodes.has(error.code);
  let cause = (error as Error)?.cause;
  let depth = 0;
  while (cause !== undefined && depth++ < 8) {
    const c = cause as Error;
    const text = stacks
      ? (c?.stack ?? String(c))
      : c instanceof Error
        ? `${c.name}: ${c.message}`
        : String(c);
    lines.push(`  caused by: ${text}`.replaceAll('\n', '\n  '));
    cause = c?.cause;
  }
  const hint = isTsmrError(error) ? hints[error.code] : undefined;
  if (hint !== undefined) lines.push(`  hint: ${hint}`);
  process.stderr.write(`${lines.join('\n')}\n`);
}
