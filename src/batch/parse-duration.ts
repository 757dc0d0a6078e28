/**
 * Durations as people type them: `500ms`, `2s`, `1.5s`, `2m`, `1h`, or a bare
 * number of milliseconds.
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

/** A duration for people: `850 ms`, `1.25 s`, `2 min 5 s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms - minutes * 60_000) / 1000);
  return minutes < 60 ? `${minutes} min ${seconds} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
