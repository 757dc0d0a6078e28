/**
 * Human units for sizes, durations, rates and counts, shared by the progress
 * display, the job report and the CLI. Re-exported by `report.ts`.
 *
 * Conventions: sizes are binary (1 KiB = 1024 B), as `ls -h` and `du -h`
 * print them; rates are decimal (1 MB/s = 10^6 B/s), as disks and networks are
 * rated and as `PhaseReport.throughputMBps` is defined. A non-finite or
 * negative input prints as `--` (unknown), never as `NaN`.
 *
 * @module
 */
const binaryUnits = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'] as const;
const siPrefixes = ['', 'k', 'M', 'G', 'T', 'P', 'E'] as const;

/** Marks an unknown quantity. */
export const UNKNOWN = '--';

/**
 * Scales `value` by powers of `base` until it is below the next step, and
 * rounds to one decimal below 100 (`1.5`, `12.3`) and to an integer above
 * (`123`). Returns the mantissa text and the power used.
 */
function scale(
  value: number,
  base: number,
  maxPower: number,
  trimExact = false,
): [text: string, power: number] {
  let power = 0;
  let v = value;
  while (power < maxPower && v >= base) {
    v /= base;
    power++;
  }
  let text =
    v < 100 && !Number.isInteger(v)
      ? v.toFixed(1)
      : v < 100 && power > 0 && !trimExact
        ? v.toFixed(1)
        : Math.round(v).toString();
  // Rounding can reach the next step (999.96 k -> "1000.0"): move up once more.
  if (Number(text) >= base && power < maxPower) {
    power++;
    text = (Number(text) / base).toFixed(1);
  }
  return [text, power];
}

function known(value: number): boolean {
  return Number.isFinite(value) && value >= 0;
}

/**
 * A byte count in binary units: `0 B`, `1023 B`, `1.5 KiB`, `12.3 MiB`,
 * `123 MiB`, and exact multiples without a decimal: `64 MiB`, `1 GiB`.
 */
export function formatBytes(bytes: number): string {
  if (!known(bytes)) return UNKNOWN;
  const [text, power] = scale(Math.round(bytes), 1024, binaryUnits.length - 1, true);
  return `${text} ${binaryUnits[power]}`;
}

/**
 * A duration for reports: `850 ms`, `12.3 s`, `3 min 05 s`, `2 h 03 min`.
 * Below a second it is milliseconds, below a minute seconds with one decimal.
 */
export function formatDuration(ms: number): string {
  if (!known(ms)) return UNKNOWN;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 59_950) return `${(ms / 1000).toFixed(1)} s`;
  const totalSeconds = Math.round(ms / 1000);
  if (totalSeconds < 3600) {
    const min = Math.floor(totalSeconds / 60);
    return `${min} min ${String(totalSeconds % 60).padStart(2, '0')} s`;
  }
  const totalMinutes = Math.round(ms / 60_000);
  const h = Math.floor(totalMinutes / 60);
  return `${h} h ${String(totalMinutes % 60).padStart(2, '0')} min`;
}

/**
 * A compact duration for an ETA or an elapsed time on a progress line: `0s`,
 * `12s`, `3m05s`, `2h03m`. Rounds up, so the last second shows as `1s`.
 */
export function formatEta(ms: number): string {
  if (!known(ms)) return UNKNOWN;
  const totalSeconds = Math.ceil(ms / 1000);
  if (totalSeconds < 60) return `${totalSeconds}s`;
  if (totalSeconds < 3600) {
    return `${Math.floor(totalSeconds / 60)}m${String(totalSeconds % 60).padStart(2, '0')}s`;
  }
  const totalMinutes = Math.ceil(totalSeconds / 60);
  return `${Math.floor(totalMinutes / 60)}h${String(totalMinutes % 60).padStart(2, '0')}m`;
}

/**
 * A rate per second with a decimal (SI) prefix.
 *
 * - `unit: 'B'` formats bytes per second, the prefix joining the unit:
 *   `formatRate(85.3e6, 'B')` → `85.3 MB/s`.
 * - any other unit is a count of things, the prefix joining the number:
 *   `formatRate(1.2e6, 'rec')` → `1.2M rec/s` (default unit `rec`).
 */
export function formatRate(perSecond: number, unit = 'rec'): string {
  if (!known(perSecond)) return `${UNKNOWN} ${unit}/s`;
  const [text, power] = scale(perSecond, 1000, siPrefixes.length - 1);
  return unit === 'B' ? `${text} ${siPrefixes[power]}B/s` : `${text}${siPrefixes[power]} ${unit}/s`;
}

/** One formatter for every count: `toLocaleString` would build one per call (slow in a page's render). */
const counts = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** An exact count with thousands separators: `12,345,678`. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return UNKNOWN;
  return counts.format(Math.round(n));
}
