/**
 * The attempts a job driver still cares about: running ones, and succeeded
 * ones waiting for (or in) their commit. What the scheduler knows about
 * attempts stays in the scheduler; this table holds only what the driver
 * needs to carry out decisions and to show progress.
 */
import type { StalledAttempt } from '../engine/job-report.ts';
import type { MapOutputLocation, TaskMessage, TaskProgress, TaskResult } from '../task/messages.ts';
import type { RunningAttempt } from './executor.ts';

export interface LiveAttempt {
  msg: TaskMessage;
  workerId: string;
  running: RunningAttempt;
  /** Latest progress report (bytes and records of its input so far). */
  progress: TaskProgress;
  /** Epoch ms of its last progress report (or its start). */
  lastProgressAt: number;
  /** Set when the attempt succeeded; it then waits for (or is in) its commit. */
  result?: TaskResult;
  /** A succeeded map attempt: where its output is. */
  mapOutput?: MapOutputLocation;
  /** The driver's handling of its outcome, which the job waits for (set once started). */
  handled?: Promise<unknown>;
}

/** Running attempts of one phase, summed. */
export interface RunningTotals {
  attempts: number;
  bytes: number;
  records: number;
}

export class LiveAttempts {
  readonly #byId = new Map<string, LiveAttempt>();

  add(attemptId: string, attempt: LiveAttempt): void {
    this.#byId.set(attemptId, attempt);
  }

  get(attemptId: string): LiveAttempt | undefined {
    return this.#byId.get(attemptId);
  }

  /** Removes the attempt; returns it, or undefined if it was not live (already forgotten). */
  take(attemptId: string): LiveAttempt | undefined {
    const a = this.#byId.get(attemptId);
    this.#byId.delete(attemptId);
    return a;
  }

  /** Attempt ids of the attempts still running (not yet succeeded). */
  runningIds(): string[] {
    return [...this.#byId].filter(([, a]) => a.result === undefined).map(([id]) => id);
  }

  clear(): void {
    this.#byId.clear();
  }

  /** Running attempts per phase, with the bytes and records they have read so far. */
  runningTotals(): Record<TaskMessage['kind'], RunningTotals> {
    const totals = {
      map: { attempts: 0, bytes: 0, records: 0 },
      reduce: { attempts: 0, bytes: 0, records: 0 },
    };
    for (const { msg, progress } of this.#byId.values()) {
      const t = totals[msg.kind];
      t.attempts++;
      t.bytes += progress.bytes;
      t.records += progress.records;
    }
    return totals;
  }

  /** Running attempts without progress for at least `afterMs`, longest idle first. */
  stalled(now: number, afterMs: number): StalledAttempt[] {
    const stalled: StalledAttempt[] = [];
    for (const [attemptId, a] of this.#byId) {
      const idleMs = now - a.lastProgressAt;
      if (a.result === undefined && idleMs >= afterMs)
        stalled.push({ attemptId, worker: a.workerId, idleMs });
    }
    return stalled.sort((x, y) => y.idleMs - x.idleMs);
  }
}
