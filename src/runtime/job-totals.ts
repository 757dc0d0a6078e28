/**
 * A job's totals, computed from its committed attempts only (counters sum
 * committed attempts: DESIGN.md §1): a map task re-executed after its output
 * was lost replaces its earlier attempt, and nothing is added and subtracted.
 * Also the phases' start and end times.
 */
import type { PhaseReport } from '../engine/job-report.ts';
import type { TaskKind } from '../engine/scheduler-types.ts';
import { addCounters } from '../task/counters.ts';
import type { TaskProgress, TaskResult } from '../task/messages.ts';

interface Committed {
  kind: TaskKind;
  progress: TaskProgress;
  result: TaskResult;
}

export class JobTotals {
  readonly #tasks: Record<TaskKind, number>;
  readonly #committed = new Map<string, Committed>();
  readonly #startedAt: Partial<Record<TaskKind, number>> = {};
  readonly #finishedAt: Partial<Record<TaskKind, number>> = {};

  /** @param tasks M and R. */
  constructor(tasks: Record<TaskKind, number>) {
    this.#tasks = tasks;
  }

  /** The first attempt of a phase started at `now` (later calls change nothing). */
  started(kind: TaskKind, now: number): void {
    this.#startedAt[kind] ??= now;
  }

  /** Task `taskId` committed an attempt that read `progress` and produced `result`. */
  commit(taskId: string, kind: TaskKind, progress: TaskProgress, result: TaskResult, now: number): void {
    this.#committed.set(taskId, { kind, progress, result });
    if (this.done(kind) === this.#tasks[kind]) this.#finishedAt[kind] ??= now;
  }

  /** Committed tasks of a phase. */
  done(kind: TaskKind): number {
    return this.#sum(kind, () => 1);
  }

  /** Input bytes read by the committed attempts of a phase. */
  bytes(kind: TaskKind): number {
    return this.#sum(kind, (c) => c.progress.bytes);
  }

  /** Input records read by the committed attempts of a phase. */
  records(kind: TaskKind): number {
    return this.#sum(kind, (c) => c.progress.records);
  }

  /** Bytes of the committed map outputs: what the reduce phase reads. */
  shuffleBytes(): number {
    return this.#sum('map', (c) => (c.result.mapOutput?.partitions ?? []).reduce((n, s) => n + s.length, 0));
  }

  /** Records of the committed map outputs (after combining): what the reduces must read. */
  shuffleRecords(): number {
    return this.#sum('map', (c) => (c.result.mapOutput?.partitions ?? []).reduce((n, s) => n + s.records, 0));
  }

  /** Segments whose CRC-32 the committed reduce attempts verified. */
  checksumsVerified(): number {
    return this.#sum('reduce', (c) => c.result.checksumsVerified ?? 0);
  }

  /** `group/name` → value over the committed attempts. */
  counters(): Record<string, number> {
    const counters: Record<string, number> = {};
    for (const c of this.#committed.values()) addCounters(counters, c.result.counters);
    return counters;
  }

  startedAt(kind: TaskKind): number | undefined {
    return this.#startedAt[kind];
  }

  finishedAt(kind: TaskKind): number | undefined {
    return this.#finishedAt[kind];
  }

  /** The report of a phase that started, with `counters` from {@link counters}; undefined if it never started. */
  phaseReport(
    kind: TaskKind,
    inputBytes: number,
    counters: Record<string, number>,
    now: number,
  ): PhaseReport | undefined {
    const start = this.#startedAt[kind];
    if (start === undefined) return undefined;
    const end = this.#finishedAt[kind] ?? now;
    const durationMs = end - start;
    const prefix = kind === 'map' ? 'tsmr/MAP' : 'tsmr/REDUCE';
    return {
      tasks: this.#tasks[kind],
      startedAt: start,
      finishedAt: end,
      durationMs,
      inputBytes,
      inputRecords: counters[`${prefix}_INPUT_RECORDS`] ?? 0,
      outputRecords: counters[`${prefix}_OUTPUT_RECORDS`] ?? 0,
      throughputMBps: durationMs > 0 ? inputBytes / 1e6 / (durationMs / 1000) : 0,
    };
  }

  #sum(kind: TaskKind, of: (c: Committed) => number): number {
    let n = 0;
    for (const c of this.#committed.values()) if (c.kind === kind) n += of(c);
    return n;
  }
}
