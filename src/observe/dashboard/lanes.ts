/**
 * Timeline lanes: which row of its worker each attempt is drawn on, so that
 * attempts on one row never overlap (Spark's event timeline draws one row per
 * executor core the same way). Attempts do not say which slot (thread) they
 * ran on; a worker never runs more attempts at once than it has slots, so
 * placing each attempt, in start order, on the lowest row free at its start
 * uses at most that many rows (interval partitioning), and an attempt keeps
 * its row as the job goes on. A running attempt holds its row to the end.
 *
 * @module
 */
import type { AttemptView } from './model.ts';

export interface LaneLayout {
  /** Attempt id → row within its worker (0-based). */
  lane: Map<string, number>;
  /** Worker id → rows it needs, in order of the worker's first attempt. */
  rows: Map<string, number>;
}

/** Lays out `attempts` (any order); ties in start time go by attempt id. */
export function assignLanes(attempts: readonly AttemptView[]): LaneLayout {
  const sorted = [...attempts].sort((a, b) => a.startedAt - b.startedAt || key(a).localeCompare(key(b)));
  const lane = new Map<string, number>();
  /** Worker id → end time of the last attempt on each of its rows. */
  const ends = new Map<string, number[]>();
  for (const a of sorted) {
    let rowEnds = ends.get(a.worker);
    if (rowEnds === undefined) ends.set(a.worker, (rowEnds = []));
    let row = rowEnds.findIndex((end) => end <= a.startedAt);
    if (row < 0) row = rowEnds.length;
    rowEnds[row] = a.finishedAt ?? Number.POSITIVE_INFINITY;
    lane.set(key(a), row);
  }
  return { lane, rows: new Map([...ends].map(([worker, rowEnds]) => [worker, rowEnds.length])) };
}

function key(a: AttemptView): string {
  return `${a.taskId}_${a.attempt}`;
}
