/**
 * `--simulate-failures <rate> --seed <n>`: which attempts crash, and where.
 *
 * The decision is a pure function of (seed, task, attempt), so a run can be
 * repeated exactly. The last allowed attempt of a task never crashes, so an
 * injected failure alone never fails a job.
 */
import { createHash } from 'node:crypto';

/**
 * @param rate the fraction of attempts to crash, from 0 to 1 (1: every attempt but the last).
 * @returns undefined (no crash) or the fraction in [0, 1) of the attempt's input
 *   after which it crashes.
 */
export function crashPoint(
  rate: number,
  seed: number,
  taskId: string,
  attempt: number,
  maxAttempts: number,
): number | undefined {
  if (rate <= 0 || attempt >= maxAttempts - 1) return undefined;
  const digest = createHash('sha256').update(`${seed}/${taskId}/${attempt}`).digest();
  const draw = digest.readUInt32BE(0) / 2 ** 32;
  return draw < rate ? digest.readUInt32BE(4) / 2 ** 32 : undefined;
}
