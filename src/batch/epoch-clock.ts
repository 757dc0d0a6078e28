/**
 * A clock shared by threads: `performance.now()` counts from each thread's
 * own start, so times that cross threads are taken as ms since the epoch,
 * `performance.timeOrigin + performance.now()` (sub-millisecond, monotonic
 * within a thread).
 */
import { performance } from 'node:perf_hooks';

/** Now, in ms since the epoch, comparable between threads. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}
