/**
 * Running a combiner over sorted groups and checking what it emits.
 *
 * The engine calls a {@link Combiner} with all groups of a spill (or of one
 * partition at the final merge) in (partition, key) order; the task runner
 * adapts the job's per-key `combine(key, values, ctx)` to this shape. What the
 * combiner emits is written straight into a sorted run, so its keys must come
 * in non-decreasing (partition, key) order. A combiner that emits only the key
 * it was given (the rule of Hadoop's combiners) always satisfies this.
 */
import type { Key } from '../api/types.ts';
import { ErrorCode, TsmrError } from '../errors.ts';
import { ByteWriter } from './byte-writer.ts';
import { NOT_DECODED } from './grouper.ts';
import type { Group, RangedGroup } from './grouper.ts';
import { compareKeyRange, decodeKey, keyRangeEquals, writeKey } from './key-codec.ts';
import { writeValue } from './value-codec.ts';

/**
 * A combiner: reads `groups` (in (partition, key) order, each group's values
 * once) and calls `emit` with combined pairs, normally one per group with the
 * group's key. May return a promise. It must read every group: the groups it
 * does not read would be lost.
 */
export type Combiner = (
  groups: Iterable<Group>,
  emit: (key: Key, value: unknown) => void,
) => void | Promise<void>;

/** Receives the combiner's output, encoded and checked, in order. */
export type CombineSink = (
  partition: number,
  key: Key,
  value: unknown,
  keyBuf: Buffer,
  keyStart: number,
  keyEnd: number,
  valueBuf: Buffer,
  valueStart: number,
  valueEnd: number,
) => void;

/** Options of {@link runCombiner}. */
export interface RunCombinerOptions {
  /** Partition of each group (as the caller knows it). */
  partitionOfGroup(group: RangedGroup): number;
  /**
   * Partition of a key the combiner emits that is not the current group's key
   * (a checked partition function).
   */
  partitionOf(encodedKey: Buffer, key: Key): number;
  /** When set, every emitted key must belong to this partition (the final merge combines one partition at a time). */
  onlyPartition?: number;
  /** Gets every emitted pair in order. */
  sink: CombineSink;
}

/**
 * Runs `combiner` over `groups`, checks the order of what it emits, and passes
 * each emitted pair to `options.sink`.
 *
 * @returns the number of records emitted.
 * @throws TsmrError `TSMR_COMBINER_KEY` when an emitted key is out of
 *   (partition, key) order or in another partition than `onlyPartition`;
 *   `TSMR_INTERNAL` when the combiner returns before reading all groups.
 *   Errors thrown by the combiner propagate unchanged.
 */
export async function runCombiner(
  combiner: Combiner,
  groups: Iterable<RangedGroup>,
  options: RunCombinerOptions,
): Promise<number> {
  const tracker = new GroupTracker(groups, options);
  const emitter = new CombineEmitter(tracker, options);
  await combiner(tracker, emitter.emit);
  if (!tracker.finished) {
    throw new TsmrError(
      ErrorCode.INTERNAL,
      'the combiner returned before reading all groups; their records would be lost',
    );
  }
  emitter.done = true;
  return emitter.records;
}

/** Passes groups through, remembering the current one and whether all were read. */
class GroupTracker implements Iterable<RangedGroup>, Iterator<RangedGroup> {
  current: RangedGroup | undefined;
  currentPartition = -1;
  finished = false;
  private readonly source: Iterator<RangedGroup>;
  private readonly options: RunCombinerOptions;

  constructor(groups: Iterable<RangedGroup>, options: RunCombinerOptions) {
    this.source = groups[Symbol.iterator]();
    this.options = options;
  }

  [Symbol.iterator](): Iterator<RangedGroup> {
    return this;
  }

  next(): IteratorResult<RangedGroup> {
    if (this.finished) return { done: true, value: undefined };
    const r = this.source.next();
    if (r.done === true) {
      this.finished = true;
      this.current = undefined;
      return r;
    }
    this.current = r.value;
    this.currentPartition = this.options.partitionOfGroup(r.value);
    return r;
  }
}

class CombineEmitter {
  records = 0;
  done = false;
  private readonly tracker: GroupTracker;
  private readonly options: RunCombinerOptions;
  private readonly scratch = new ByteWriter(256);
  private readonly last = new ByteWriter(256);
  private lastPartition = -1;

  constructor(tracker: GroupTracker, options: RunCombinerOptions) {
    this.tracker = tracker;
    this.options = options;
    if (options.onlyPartition !== undefined) this.lastPartition = options.onlyPartition;
  }

  readonly emit = (key: Key, value: unknown): void => {
    if (this.done) throw new TsmrError(ErrorCode.INTERNAL, 'the combiner emitted after it returned');
    const w = this.scratch;
    w.reset();
    const group = this.tracker.current;
    let keyBuf: Buffer;
    let keyStart: number;
    let keyEnd: number;
    let partition: number;
    let valueStart = 0;
    if (group !== undefined && group.decodedKey !== NOT_DECODED && key === group.decodedKey) {
      // The key it was given (the usual case): its bytes and partition are known.
      keyBuf = group.keyBuf;
      keyStart = group.keyStart;
      keyEnd = group.keyEnd;
      partition = this.tracker.currentPartition;
      writeValue(w, value);
    } else {
      writeKey(w, key);
      keyStart = 0;
      keyEnd = valueStart = w.pos;
      writeValue(w, value);
      keyBuf = w.buf;
      if (
        group !== undefined &&
        keyRangeEquals(keyBuf, 0, keyEnd, group.keyBuf, group.keyStart, group.keyEnd)
      ) {
        partition = this.tracker.currentPartition;
      } else {
        partition = this.options.partitionOf(Buffer.from(keyBuf.subarray(0, keyEnd)), key);
      }
    }
    const only = this.options.onlyPartition;
    const last = this.last;
    if (
      (only !== undefined && partition !== only) ||
      partition < this.lastPartition ||
      (partition === this.lastPartition &&
        this.records > 0 &&
        compareKeyRange(keyBuf, keyStart, keyEnd, last.buf, 0, last.pos) < 0)
    ) {
      throw this.outOfOrder(key, partition);
    }
    last.reset();
    last.bytes(keyBuf, keyStart, keyEnd);
    this.lastPartition = partition;
    this.records++;
    this.options.sink(partition, key, value, keyBuf, keyStart, keyEnd, w.buf, valueStart, w.pos);
  };

  private outOfOrder(key: Key, partition: number): TsmrError {
    const group = this.tracker.current;
    const given = group === undefined ? 'no key' : `key ${show(group.key)}`;
    return new TsmrError(
      ErrorCode.COMBINER_KEY,
      `the combiner was called with ${given} and emitted key ${show(key)} (partition ${partition}), ` +
        `out of order${this.records > 0 ? ` after key ${show(decodeKey(this.last.view()))}` : ''}: ` +
        'a combiner must emit only the key it was called with',
      { details: { emittedKey: show(key), givenKey: group === undefined ? null : show(group.key) } },
    );
  }
}

function show(key: unknown): string {
  try {
    return JSON.stringify(key, (_k, v: unknown) =>
      typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? `<${Buffer.from(v).toString('hex')}>` : v,
    ).slice(0, 200);
  } catch {
    return String(key).slice(0, 200);
  }
}
