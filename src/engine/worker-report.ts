/**
 * The per-worker section of the job report (`JobReport.workers`), computed
 * from the attempt history: what each worker ran, how much of it failed, how
 * long its slots were busy and how much input it read. Hadoop's JobTracker
 * page lists the same per TaskTracker, Spark's Executors tab per executor.
 */
import type { AttemptRecord } from './job-report.ts';

/** One worker's share of a job. Local mode has one worker, `local`, whose slots are threads. */
export interface WorkerReport {
  workerId: string;
  /** Task slots (threads) it offered; 0 for a worker known only from attempts. */
  slots: number;
  /** Tasks whose committed attempt ran on it. */
  tasks: number;
  /** Attempts it ran (retries, re-executions and backups included). */
  attempts: number;
  /** Its attempts that failed (counted against `maxAttempts`). */
  failedAttempts: number;
  /** Its attempts that were killed (job end, cancel, lost worker, a lost race). */
  killedAttempts: number;
  /** Sum of its attempts' run times, start to end (a still running one: to `now`), ms. */
  busyMs: number;
  /** Input records its attempts read, all of them (failed and killed too: the work it did). */
  records: number;
  /** Input bytes its attempts read, all of them. */
  bytes: number;
}

/**
 * One {@link WorkerReport} per worker: those of `workers` in their order, then
 * any other worker named by an attempt (slots 0), in order of first attempt.
 *
 * @param now epoch ms, the end of attempts still running.
 */
export function workerReports(
  workers: ReadonlyArray<{ id: string; slots: number }>,
  attempts: readonly AttemptRecord[],
  now: number,
): WorkerReport[] {
  const byId = new Map<string, WorkerReport>();
  const entry = (workerId: string, slots: number): WorkerReport => {
    let w = byId.get(workerId);
    if (w === undefined) {
      w = {
        workerId,
        slots,
        tasks: 0,
        attempts: 0,
        failedAttempts: 0,
        killedAttempts: 0,
        busyMs: 0,
        records: 0,
        bytes: 0,
      };
      byId.set(workerId, w);
    }
    return w;
  };
  for (const { id, slots } of workers) entry(id, slots);
  for (const a of attempts) {
    const w = entry(a.worker, 0);
    w.attempts++;
    if (a.status === 'committed') w.tasks++;
    if (a.status === 'failed') w.failedAttempts++;
    if (a.status === 'killed') w.killedAttempts++;
    w.busyMs += Math.max(0, (a.finishedAt ?? now) - a.startedAt);
    w.records += a.inputRecords ?? 0;
    w.bytes += a.inputBytes ?? 0;
  }
  return [...byId.values()];
}
