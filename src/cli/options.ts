/**
 * Parsers for command-line option values. Each throws a commander
 * `InvalidArgumentError`, which commander reports with the flag's name and exits 2.
 */
import { InvalidArgumentError } from 'commander';
import { parseDuration } from '../batch/parse-duration.ts';

const units: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** `64m`, `1g`, `512k`, `1048576` → bytes (binary units: k = 1024). */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?$/i.exec(text.trim());
  if (!match) throw new InvalidArgumentError(`expected a size like 64m, 1g or 1048576, got '${text}'`);
  const bytes = Math.round(Number(match[1]) * units[match[2].toLowerCase()]);
  if (bytes < 1) throw new InvalidArgumentError(`size must be at least 1 byte, got '${text}'`);
  return bytes;
}

/** A non-negative integer. */
export function parseCount(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new InvalidArgumentError(`expected a whole number, got '${text}'`);
  return Number(text);
}

/** A positive integer. */
export function parsePositive(text: string): number {
  const n = parseCount(text);
  if (n < 1) throw new InvalidArgumentError(`expected a number >= 1, got '${text}'`);
  return n;
}

/** A rate from 0 to 1, both included (`--simulate-failures`; see `resolveSettings`). */
export function parseRate(text: string): number {
  const n = Number(text);
  if (!(text.trim() !== '' && n >= 0 && n <= 1)) {
    throw new InvalidArgumentError(
      `expected a rate from 0 to 1, both included (e.g. 0.2; 1 crashes every attempt but each task's last), got '${text}'`,
    );
  }
  return n;
}

/** Collects repeated `--param name=value` into an object (values stay strings, as Hadoop's `-D`). */
export function collectParam(text: string, into: Record<string, string> = {}): Record<string, string> {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected name=value, got '${text}'`);
  return { ...into, [text.slice(0, eq)]: text.slice(eq + 1) };
}

/** Collects a repeatable option's values in order (`--file a --file b`). */
export function collectValue(text: string, into: string[] = []): string[] {
  return [...into, text];
}

/** A duration like `30s`, `10m`, `1h` or `500ms` (a bare number is ms) → ms; `0` is allowed (no timeout). */
export function parseTimeout(text: string): number {
  try {
    return parseDuration(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}
