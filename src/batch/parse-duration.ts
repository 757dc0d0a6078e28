/**
 * Durations as people type them: `500ms`, `2s`, `1.5s`, `2m`, `1h`, or a bare
 * number of milliseconds. Printing durations is `formatDuration` in
 * `src/observe/units.ts`.
 */
import { usageError } from '../errors.ts';

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Milliseconds in `text`.
 * @throws TsmrError `TSMR_USAGE` for anything else, or a negative duration.
 */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)?\s*$/i.exec(text);
  if (m === null) {
    throw usageError(
      `"${text}" is not a duration; write it like 500ms, 2s, 1.5m or 1h (a bare number is ms)`,
    );
  }
  return Number(m[1]) * units[(m[2] ?? 'ms').toLowerCase()]!;
}
