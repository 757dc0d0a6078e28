/**
 * Structured logs (pino, one JSON object per line).
 *
 * One root logger per process; callers make child loggers for what they run:
 * `logger.child({ jobId })`, `.child({ taskId, attempt })`, `.child({ worker })`.
 * Errors go under the `err` key (`log.error({ err }, 'attempt failed')`) and
 * are serialized with their type, message, stack and cause.
 *
 * Defaults fit the CLI: level `warn` (from `TSMR_LOG_LEVEL` when set), so logs
 * do not interleave with the progress bar; output to stderr (fd 2), keeping
 * stdout for results and `--json`. Writes are synchronous by default, so a
 * line is never lost when the process exits or crashes and lines keep their
 * order relative to what else is written to stderr.
 *
 * @module
 */
import pino from 'pino';
import type { Logger } from 'pino';
import { usageError } from '../errors.ts';

export type { Logger } from 'pino';

/** Levels accepted by {@link createLogger}, most to least severe; `silent` turns logging off. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Level used when neither `opts.level` nor `TSMR_LOG_LEVEL` is given. */
export const DEFAULT_LOG_LEVEL = 'warn';

export interface LoggerOptions {
  /** Minimum level (default: env `TSMR_LOG_LEVEL`, else `warn`). One of {@link LOG_LEVELS}. */
  level?: string;
  /** A file descriptor (default 2, stderr) or a file path (appended to; parent directories are created). */
  destination?: string | number;
  /** Synchronous writes (default true). `false` buffers (faster for `debug`/`trace` to a file) and flushes on exit. */
  sync?: boolean;
  /** Name of the root logger, in every line (default `tsmr`). */
  name?: string;
}

/**
 * Creates a pino logger.
 *
 * @throws TsmrError `TSMR_USAGE` when the level (option or `TSMR_LOG_LEVEL`) is not one of {@link LOG_LEVELS}.
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const fromEnv = process.env.TSMR_LOG_LEVEL?.trim() || undefined;
  const level = (opts.level ?? fromEnv ?? DEFAULT_LOG_LEVEL).toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    const source = opts.level === undefined ? 'TSMR_LOG_LEVEL' : 'log level';
    throw usageError(`unknown ${source} "${opts.level ?? fromEnv}"; use one of ${LOG_LEVELS.join(', ')}`, {
      level: opts.level ?? fromEnv,
    });
  }
  const dest = opts.destination ?? 2;
  const destination = pino.destination({
    dest,
    sync: opts.sync ?? true,
    ...(typeof dest === 'string' ? { mkdir: true, append: true } : {}),
  });
  return pino({ name: opts.name ?? 'tsmr', level }, destination);
}
