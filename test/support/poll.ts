/**
 * Polls a condition with a deadline: how tests wait for something that
 * announces itself by no event (a process gone, a file appeared).
 */
import { setTimeout as delay } from 'node:timers/promises';

/**
 * Resolves with the first truthy value of `check()`, tried every `everyMs`;
 * rejects naming `what` if none came within `timeoutMs`.
 */
export async function pollUntil<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 20_000, everyMs = 50 }: { timeoutMs?: number; everyMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(everyMs);
  }
}

/** True while a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
