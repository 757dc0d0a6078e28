import { isTsmrError } from '../errors.ts';

/**
 * Prints an error for a person: the message, where it happened, the cause
 * chain with its stack (for user-code errors), never a bare stack trace.
 */
export function reportError(error: unknown): void {
  const lines: string[] = [];
  if (isTsmrError(error)) {
    lines.push(`tsmr: error ${error.code}: ${error.message}`);
  } else {
    lines.push(`tsmr: error: ${(error as Error)?.message ?? String(error)}`);
  }
  let cause = (error as Error)?.cause;
  let depth = 0;
  while (cause !== undefined && depth++ < 8) {
    const c = cause as Error;
    lines.push(`  caused by: ${c?.stack ?? String(c)}`.replaceAll('\n', '\n  '));
    cause = c?.cause;
  }
  process.stderr.write(`${lines.join('\n')}\n`);
}
