/**
 * What a task runs, behind one interface: a module job (`defineJob`) or a
 * streaming job (executables). The task runner, the planner and the scheduler
 * only see a {@link JobBody}, so there is one engine for both kinds.
 */
import type { TotalOrderPartitioner } from '../api/total-order.ts';
import type { CombineContext, Key, MapContext, ReduceContext, Values } from '../api/types.ts';
import type { NormalizedInputFormat } from '../io/record-reader.ts';
import type { NormalizedOutputFormat } from '../io/output-writer.ts';
import type { Combiner } from '../shuffle/map-output-collector.ts';

/** Processes the records of one map attempt. */
export interface MapperBody {
  /** Called once per input record; may return a promise (awaited before the next record). */
  record(key: unknown, value: unknown): void | Promise<void>;
  /** Called after the last record; may still emit. */
  close?(): void | Promise<void>;
  /** Called instead of `close` when the attempt fails: release processes and files now. */
  abort?(): void;
}

/** Processes the groups of one reduce attempt. */
export interface ReducerBody {
  /** Called once per key, in key order. */
  group(key: Key, values: Values<unknown>): void | Promise<void>;
  /** Called after the last group; may still emit. */
  close?(): void | Promise<void>;
  /** Called instead of `close` when the attempt fails: release processes and files now. */
  abort?(): void;
}

/** One of a job's own inputs, as the planner sees it. */
export interface BodyInput {
  /** Its paths (files, directories, globs) for the job's params. */
  paths(params: Readonly<Record<string, string | number | boolean | null>>): string[];
  readonly inputFormat: NormalizedInputFormat;
}

export interface JobBody {
  /** Name for reports. */
  readonly name: string;
  readonly inputFormat: NormalizedInputFormat;
  readonly outputFormat: NormalizedOutputFormat;
  /** The job's own default R, if it has one. */
  readonly reducers?: number;
  /** Custom partitioner, if any. */
  readonly partition?: (key: Key, numPartitions: number) => number;
  /** The job's `totalOrder()` partitioner, if it has one (then `partition` is undefined). */
  readonly totalOrder?: TotalOrderPartitioner;
  /** Secondary sort: reduce groups tuple keys by their first `groupBy` elements (`JobDefinition.groupBy`). */
  readonly groupBy?: number;
  /**
   * The job's own inputs (`JobDefinition.inputs`): paths for given params, and
   * their record format. The mapper of a split of input `i` gets `ctx.input === i`.
   */
  readonly inputs?: readonly BodyInput[];
  /** Side files the job ships (`JobDefinition.files`: paths, each may end in `#name`). */
  readonly files?: readonly string[];
  mapper(ctx: MapContext): MapperBody | Promise<MapperBody>;
  /** The job's `combineValues` (a fold of two values of one key), if any; never with `combiner`. */
  readonly combineValues?: (a: unknown, b: unknown) => unknown;
  /** Present when the job has a combiner. */
  combiner?(ctx: CombineContext): Combiner;
  /** Absent for a map-only job (its `reducers` is then 0). */
  reducer?(ctx: ReduceContext): ReducerBody | Promise<ReducerBody>;
}
