/**
 * Collects a map task's output: `emit(key, value)` → bounded memory → sorted
 * spill runs → one map output file with one sorted segment per partition.
 *
 * Three strategies, chosen by whether the job has a combiner or a fold:
 *
 * - **No combiner** — a {@link SortBuffer}: pairs are encoded into a byte
 *   arena at once; a spill sorts them by (partition, key, emit order) and
 *   writes them out (Hadoop's `MapOutputBuffer`).
 * - **Combiner** — a {@link CombineTable}: values are collected per key in a
 *   hash table (Spark's map-side aggregation). When the table is full,
 *   `spill()` first *compacts* it: the combiner runs over all keys in
 *   (partition, key) order and its output becomes the new table. If the new
 *   table grows past half the budget, compaction does not pay for this input:
 *   what it holds and the rest of the combiner's output go to a spill run
 *   instead, and from then on full tables are spilled directly, combining as
 *   they are written.
 * - **Fold** (the job's `combineValues`) — a {@link FoldTable}: each emit is
 *   folded into its key's value at once (Spark's `reduceByKey`); a full table
 *   is sorted and spilled, one record per key, and the final merge folds equal
 *   keys across runs.
 *
 * `finish()` spills what is left and merges the runs, partition by partition,
 * into `<dir>/<name>.data` plus `<dir>/<name>.index.json` (see
 * `map-output.ts`); a single run is renamed, not rewritten. Without a
 * combiner, what is left in the sort buffer is not spilled: it is sorted and
 * merged with the runs where it lies (fewer runs than the fan-in), which
 * saves writing and reading it once (Spark's `ExternalSorter` does the same;
 * Hadoop spills it). The final merge
 * runs the combiner again when there are at least {@link MIN_SPILLS_FOR_COMBINE}
 * runs (Hadoop's `mapreduce.map.combine.minspills` is 3; we use 2 because every
 * record left here is written, fetched and merged again by a reduce task).
 *
 * Memory (as accounted; the JS heap adds its garbage-collection slack) is
 * bounded by `sortBufferBytes` plus one map call's output — 1.5 × that during
 * a compaction — plus the final merge's read buffers (`mergeFanIn` × 256 KiB).
 * A combining job's accounting is approximate (per key 100 bytes plus its key
 * bytes twice, as encoding and as string, per value about 34 bytes plus its
 * encoding: measured, not exact); a folding job's is per key 116 bytes plus
 * its key bytes twice (and an estimate of non-number values). A task given
 * the fold table of an earlier task (`FoldTableCache`) also holds that table's
 * keys it does not use, less than one more budget, until its first spill.
 *
 * Counters (added at each spill and at finish): `MAP_OUTPUT_RECORDS` (emit
 * calls), `MAP_OUTPUT_BYTES` (encoded key + value bytes of those emits, before
 * combining, as in Hadoop), `COMBINE_INPUT_RECORDS`, `COMBINE_OUTPUT_RECORDS`
 * (with a fold: pairs folded into the table and records written out of it,
 * then records read and written by the final merge),
 * `SPILLED_RECORDS` (records written to spill runs and to the merged output).
 *
 * Files are written synchronously (this runs in worker threads).
 */
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Key } from '../api/types.ts';
import { ErrorCode, TsmrError } from '../errors.ts';
import { CombineTable } from './combine-table.ts';
import { applyFold, FoldTable } from './fold-table.ts';
import type { Fold, FoldTableCache } from './fold-table.ts';
import type { LogPool, TableGroup } from './combine-table.ts';
import { runCombiner } from './combiner.ts';
import type { Combiner } from './combiner.ts';
import { ioError, removeQuietly } from './file-io.ts';
import { groupByKey } from './grouper.ts';
import { ByteWriter } from './byte-writer.ts';
import { keyRangeEquals } from './key-codec.ts';
import type { MergeCursor } from './merger.ts';
import { decodeValue, writeValue } from './value-codec.ts';
import type { MapOutput } from './map-output.ts';
import { writeMapOutputIndex } from './map-output.ts';
import { mergeCursors, mergeSegments } from './merger.ts';
import { hashPartition } from './partitioner.ts';
import { RunWriter } from './run-writer.ts';
import type { SegmentInfo } from './run-writer.ts';
import { openSegment, type SegmentRef } from './segment-reader.ts';
import type { RecordCursor } from './record-format.ts';
import { SortBuffer } from './sort-buffer.ts';
import { decodeText } from './text-bytes.ts';
import type { CheckedPartition } from './sort-buffer.ts';
import { KeySorter } from './sort-index.ts';

export type { Combiner } from './combiner.ts';
export type { Fold } from './fold-table.ts';
export type { Group } from './grouper.ts';
export type { MapOutput } from './map-output.ts';

/** The final merge combines when there are at least this many spill runs. */
export const MIN_SPILLS_FOR_COMBINE = 2;
/** Default fan-in of the final merge of spill runs. */
export const DEFAULT_MERGE_FAN_IN = 64;

/** Options of {@link MapOutputCollector}. */
export interface MapOutputCollectorOptions {
  /** Number of reduce partitions R (>= 1). */
  numPartitions: number;
  /**
   * Partition of a key, given its encoding and the key; must return an integer
   * in `[0, R)`. Not called when R is 1. Errors it throws propagate unchanged.
   * Default: `hashPartition(encodedKey, R)`, computed on the encoded bytes
   * where they lie (pass nothing rather than a wrapper of `hashPartition`:
   * that saves a Buffer view per emit).
   */
  partition?(encodedKey: Buffer, key: Key): number;
  /** The job's combiner, adapted to groups (see `combiner.ts`). */
  combiner?: Combiner;
  /**
   * The job's `combineValues`, folding two values of one key into one; not
   * together with `combiner`. Errors it throws become `TSMR_USER_CODE`.
   */
  fold?: Fold;
  /** Memory budget of collected output in bytes (e.g. 64 MiB). */
  sortBufferBytes: number;
  /** Directory for spill runs and the map output files. */
  dir: string;
  /** File name stem, e.g. `m-00003_0`. */
  name: string;
  /** Receives counter increments. */
  counters: { add(name: string, n: number): void };
  /** Fan-in of the final merge of spill runs (default 64, at least 2). */
  mergeFanIn?: number;
  /**
   * With a fold: where to take the fold table of an earlier task from, and to
   * leave this task's for the next (see `FoldTableCache`). Default: none.
   */
  foldTableCache?: FoldTableCache;
}

interface Run {
  path: string;
  segments: SegmentInfo[];
}

export class MapOutputCollector {
  private readonly options: MapOutputCollectorOptions;
  private readonly numPartitions: number;
  private readonly budget: number;
  /** The user's partition function, checked; undefined for the default. */
  private readonly userChecked: CheckedPartition | undefined;
  /** The partition function in force, checked. */
  private readonly checked: CheckedPartition;
  private readonly sorter = new KeySorter();
  /** Log arrays passed from one combine table to the next. */
  private readonly logPool: LogPool = {};
  private readonly buffer: SortBuffer | undefined;
  private table: CombineTable | undefined;
  private folds: FoldTable | undefined;
  /** The table as compaction left it, and its value count then. */
  private compacted: CombineTable | undefined;
  private compactedValues = 0;
  /** Whether compaction is still worth trying. */
  private compactionHelps = true;
  private readonly runs: Run[] = [];
  private state: 'open' | 'busy' | 'finished' | 'aborted' = 'open';
  private spillCount = 0;
  private emitted = 0;
  private emittedBytesOfOldTables = 0;
  private combineInput = 0;
  private combineOutput = 0;
  private spilled = 0;
  /** The fold table to leave to the cache when finish() succeeds. */
  private keptTable: FoldTable | undefined;
  private readonly reported = new Map<string, number>();

  /** @throws TsmrError `TSMR_USAGE` for a bad option. */
  constructor(options: MapOutputCollectorOptions) {
    const { numPartitions, sortBufferBytes, mergeFanIn } = options;
    if (!Number.isInteger(numPartitions) || numPartitions < 1) {
      throw new TsmrError(
        ErrorCode.USAGE,
        `the number of partitions must be an integer >= 1, got ${numPartitions}`,
      );
    }
    if (!(sortBufferBytes > 0)) {
      throw new TsmrError(
        ErrorCode.USAGE,
        `the sort buffer must be a positive number of bytes, got ${sortBufferBytes}`,
      );
    }
    if (mergeFanIn !== undefined && !(Number.isInteger(mergeFanIn) && mergeFanIn >= 2)) {
      throw new TsmrError(ErrorCode.USAGE, `the merge fan-in must be an integer >= 2, got ${mergeFanIn}`);
    }
    this.options = options;
    this.numPartitions = numPartitions;
    this.budget = sortBufferBytes;
    const userPartition = options.partition;
    if (userPartition !== undefined) {
      this.userChecked = (encodedKey, key) => {
        const p = userPartition(encodedKey, key);
        if (p >>> 0 !== p || p >= numPartitions) throw badPartition(p, key, numPartitions);
        return p;
      };
    }
    this.checked = this.userChecked ?? ((encodedKey) => hashPartition(encodedKey, numPartitions));
    if (options.fold !== undefined) {
      if (options.combiner !== undefined) {
        throw new TsmrError(ErrorCode.USAGE, 'a collector takes a combiner or a fold, not both');
      }
      // A kept table was partitioned by the default partitioner: only a task that uses it may take
      // one (in-process jobs that run at once share this thread's cache).
      const kept =
        userPartition === undefined ? options.foldTableCache?.take(numPartitions, options.fold) : undefined;
      this.folds = kept ?? this.newFoldTable();
    } else if (options.combiner === undefined) {
      this.buffer = new SortBuffer(numPartitions, this.userChecked, sortBufferBytes);
    } else {
      this.table = this.newTable();
    }
  }

  /** Path of the map output data file, `<dir>/<name>.data`. */
  get dataPath(): string {
    return join(this.options.dir, `${this.options.name}.data`);
  }

  /** Path of the map output index, `<dir>/<name>.index.json`. */
  get indexPath(): string {
    return join(this.options.dir, `${this.options.name}.index.json`);
  }

  /** True once the memory budget is reached: call {@link spill} before the next map call. */
  get full(): boolean {
    const bytes =
      this.table !== undefined
        ? this.table.bytes
        : this.folds !== undefined
          ? this.folds.liveBytes
          : (this.buffer as SortBuffer).bytes;
    return bytes >= this.budget;
  }

  /** Spill runs written so far (finish() writes the last one). */
  get spills(): number {
    return this.spillCount;
  }

  /**
   * Adds one pair. Synchronous; encodes (or stores) the pair at once.
   * @throws TsmrError `TSMR_BAD_KEY`, `TSMR_BAD_VALUE`, `TSMR_BAD_PARTITION`
   *   (the pair is not added); `TSMR_INTERNAL` while a spill or finish runs.
   */
  emit(key: Key, value: unknown): void {
    if (this.state !== 'open') throw this.notOpen('emit');
    if (this.table !== undefined) this.table.add(key, value);
    else if (this.folds !== undefined) this.folds.add(key, value);
    else (this.buffer as SortBuffer).add(key, value);
    this.emitted++;
  }

  /**
   * Adds one pair whose key is the string `bytes[start, end)` decode to (as
   * latin1, or as UTF-8, as `Buffer.toString` decodes them): as
   * `emit(decoded, value)`, but a hash table looks the key up as bytes and
   * makes its string only when the key is new to it. Throws as {@link emit}.
   */
  emitText(bytes: Uint8Array, start: number, end: number, latin1: boolean, value: unknown): void {
    // The fold's case first and small (V8 inlines it into the job's map loop).
    const folds = this.folds;
    if (folds !== undefined && this.state === 'open') folds.addText(bytes, start, end, latin1, value);
    else this.emitTextElsewhere(bytes, start, end, latin1, value);
    this.emitted++;
  }

  /** {@link emitText} into a combine table or a sort buffer, or the error of a collector not open. */
  private emitTextElsewhere(
    bytes: Uint8Array,
    start: number,
    end: number,
    latin1: boolean,
    value: unknown,
  ): void {
    if (this.state !== 'open') throw this.notOpen('emit');
    if (this.table !== undefined) this.table.addText(bytes, start, end, latin1, value);
    else (this.buffer as SortBuffer).add(decodeText(bytes, start, end, latin1), value);
  }

  /**
   * Frees memory: compacts the table with the combiner, or sorts and writes
   * a spill run `<dir>/<name>.spill<N>`. Call it after a map call when
   * {@link full}; calling it otherwise is allowed.
   * @throws TsmrError `TSMR_IO`, `TSMR_COMBINER_KEY`; errors of the combiner.
   */
  async spill(): Promise<void> {
    if (this.state !== 'open') throw this.notOpen('spill');
    this.state = 'busy';
    try {
      if (this.table !== undefined) await this.spillTable(false);
      else if (this.folds !== undefined) this.spillFolds(false);
      else this.spillBuffer();
      this.reportCounters();
    } finally {
      if (this.state === 'busy') this.state = 'open';
    }
  }

  /**
   * Spills what is left and writes the map output file and its index. Spill
   * runs are deleted. On error, everything written is deleted.
   * @throws TsmrError `TSMR_IO`, `TSMR_COMBINER_KEY`, `TSMR_CORRUPT_DATA` (a
   *   spill run unreadable); errors of the combiner.
   */
  async finish(): Promise<MapOutput> {
    if (this.state !== 'open') throw this.notOpen('finish');
    this.state = 'busy';
    try {
      // Without a combiner, records still in the buffer join the final merge where they lie
      // (Spark's ExternalSorter merges its in-memory records with its spills the same way).
      const inMemory = this.buffer !== undefined && this.mergesInMemory(this.buffer);
      if (this.table !== undefined) await this.spillTable(true);
      else if (this.folds !== undefined) this.spillFolds(true);
      else if (!inMemory) this.spillBuffer();
      const dataPath = this.dataPath;
      let partitions: SegmentInfo[];
      if (inMemory) {
        partitions = await this.mergeRuns((this.buffer as SortBuffer).sortedCursors());
        (this.buffer as SortBuffer).clear();
      } else if (this.runs.length === 0) {
        partitions = new RunWriter(dataPath, this.numPartitions).close();
      } else if (this.runs.length === 1) {
        const [run] = this.runs;
        try {
          renameSync(run.path, dataPath);
        } catch (cause) {
          throw ioError('rename', run.path, cause);
        }
        this.runs.length = 0;
        partitions = run.segments;
      } else {
        partitions = await this.mergeRuns();
      }
      writeMapOutputIndex(this.indexPath, partitions);
      this.reportCounters();
      this.state = 'finished';
      if (this.keptTable !== undefined) this.options.foldTableCache?.keep(this.keptTable);
      let records = 0;
      let bytes = 0;
      for (const s of partitions) {
        records += s.records;
        bytes += s.length;
      }
      return { dataPath, indexPath: this.indexPath, partitions, records, bytes };
    } catch (error) {
      this.abort();
      throw error;
    }
  }

  /** Deletes spill runs and any output written, and refuses further use. Never throws. */
  abort(): void {
    this.state = 'aborted';
    for (const run of this.runs) removeQuietly(run.path);
    this.runs.length = 0;
    removeQuietly(this.dataPath);
    removeQuietly(this.indexPath);
  }

  /** Whether finish() merges `buffer`'s records with the spill runs without spilling them first. */
  private mergesInMemory(buffer: SortBuffer): boolean {
    const fanIn = this.options.mergeFanIn ?? DEFAULT_MERGE_FAN_IN;
    return buffer.records > 0 && this.runs.length > 0 && this.runs.length < fanIn;
  }

  private spillBuffer(): void {
    const buffer = this.buffer as SortBuffer;
    if (buffer.records === 0) return;
    this.writeRun((writer) => buffer.spillTo(writer));
  }

  /**
   * Writes the fold table to a spill run, sorted, and starts a new one. The
   * final spill also marks the table for the cache if it holds less than the
   * budget, keys without a value included. (The next task spills on its own
   * keys only, `FoldTable.liveBytes`, so the kept keys it does not use add at
   * most one budget to its memory, until its first spill drops them.)
   */
  private spillFolds(final: boolean): void {
    const folds = this.folds as FoldTable;
    if (folds.size > 0) {
      const sorted = folds.sortedKeys(this.sorter);
      this.writeRun((writer) => folds.writeTo(writer, sorted));
      this.combineInput += folds.adds;
      this.combineOutput += folds.size;
      this.emittedBytesOfOldTables += folds.emittedBytes;
    }
    if (final && folds.bytes < this.budget && folds.reusableFor(this.numPartitions)) this.keptTable = folds;
    this.folds = this.newFoldTable();
  }

  private newFoldTable(): FoldTable {
    return new FoldTable(this.numPartitions, this.userChecked, this.options.fold as Fold);
  }

  private async spillTable(final: boolean): Promise<void> {
    const table = this.table as CombineTable;
    if (table.size === 0) return;
    const combiner = this.options.combiner as Combiner;
    const ids = table.sortedIds(this.sorter);
    const fresh = table !== this.compacted || table.valueCount !== this.compactedValues;
    if (!fresh) {
      // Nothing new since compaction: already combined.
      this.writeRun((writer) => table.writeTo(writer, ids));
      this.replaceTable(table, this.newTable());
      return;
    }
    if (!final && this.compactionHelps) {
      // Compact into a new table; if that grows past half the budget, compaction
      // does not pay: write what it holds and the rest of the combiner's output
      // (both sorted) to a spill run instead, and stop trying.
      const next = this.newTable();
      let writer: RunWriter | undefined;
      let path = '';
      this.combineInput += table.valueCount;
      try {
        this.combineOutput += await runCombiner(combiner, table.groups(ids), {
          partitionOfGroup: (g) => (g as TableGroup).partition,
          partitionOf: this.checked,
          sink: (p, k, v, kb, ks, ke, vb, vs, ve) => {
            if (writer !== undefined) {
              writer.append(p, kb, ks, ke, vb, vs, ve);
              return;
            }
            next.addCombined(p, k, v, kb, ks, ke, vb, vs, ve);
            if (next.bytes > this.budget / 2) {
              path = this.nextRunPath();
              writer = new RunWriter(path, this.numPartitions);
              next.writeTo(writer, undefined);
            }
          },
        });
      } catch (error) {
        (writer as RunWriter | undefined)?.abort();
        throw error;
      }
      if (writer === undefined) {
        this.replaceTable(table, next);
        this.compacted = next;
        this.compactedValues = next.valueCount;
        return;
      }
      this.compactionHelps = false;
      this.finishRun(path, writer);
      this.replaceTable(table, this.newTable());
      next.release();
      return;
    }
    // Spill, combining on the way.
    const input = table.valueCount;
    await this.writeRunAsync(async (writer) => {
      const out = await runCombiner(combiner, table.groups(ids), {
        partitionOfGroup: (g) => (g as TableGroup).partition,
        partitionOf: this.checked,
        sink: (p, _k, _v, kb, ks, ke, vb, vs, ve) => writer.append(p, kb, ks, ke, vb, vs, ve),
      });
      this.combineInput += input;
      this.combineOutput += out;
      return out;
    });
    this.replaceTable(table, this.newTable());
  }

  private newTable(): CombineTable {
    return new CombineTable(this.numPartitions, this.userChecked, this.logPool);
  }

  private replaceTable(old: CombineTable, next: CombineTable): void {
    this.emittedBytesOfOldTables += old.emittedBytes;
    old.release();
    this.table = next;
  }

  private nextRunPath(): string {
    return join(this.options.dir, `${this.options.name}.spill${this.spillCount}`);
  }

  /** Writes one spill run with `fill`, which returns the records it wrote. */
  private writeRun(fill: (writer: RunWriter) => number): void {
    const path = this.nextRunPath();
    const writer = new RunWriter(path, this.numPartitions);
    try {
      fill(writer);
    } catch (error) {
      writer.abort();
      throw error;
    }
    this.finishRun(path, writer);
  }

  private async writeRunAsync(fill: (writer: RunWriter) => Promise<unknown>): Promise<void> {
    const path = this.nextRunPath();
    const writer = new RunWriter(path, this.numPartitions);
    try {
      await fill(writer);
    } catch (error) {
      writer.abort();
      throw error;
    }
    this.finishRun(path, writer);
  }

  /** Closes a spill run's writer and records the run. */
  private finishRun(path: string, writer: RunWriter): void {
    const segments = writer.close();
    this.spilled += writer.records;
    this.runs.push({ path, segments });
    this.spillCount++;
  }

  /**
   * Merges all runs into the data file, partition by partition; deletes the runs.
   * @param inMemory per partition, the sorted records of the sort buffer, merged after the runs
   *   (their records were emitted last, so equal keys keep emit order); the runs are then fewer
   *   than the fan-in.
   */
  private async mergeRuns(inMemory?: readonly RecordCursor[]): Promise<SegmentInfo[]> {
    const { combiner, name, dir } = this.options;
    const fanIn = this.options.mergeFanIn ?? DEFAULT_MERGE_FAN_IN;
    const combine = combiner !== undefined && this.runs.length >= MIN_SPILLS_FOR_COMBINE;
    const writer = new RunWriter(this.dataPath, this.numPartitions);
    try {
      for (let p = 0; p < this.numPartitions; p++) {
        const refs: SegmentRef[] = [];
        this.runs.forEach((run, i) => {
          const s = run.segments[p];
          if (s.records > 0) refs.push({ path: run.path, ...s, source: `${name} spill ${i}` });
        });
        const memory = inMemory?.[p];
        if (refs.length === 0 && memory === undefined) continue;
        const cursor =
          memory === undefined
            ? mergeSegments(refs, { fanIn, tmpDir: dir })
            : mergeCursors([...refs.map((ref) => openSegment(ref)), memory]);
        const recordsBefore = writer.records;
        try {
          if (this.options.fold !== undefined) {
            const read = foldMerged(cursor, p, writer, this.options.fold);
            this.combineInput += read;
            this.combineOutput += writer.records - recordsBefore;
          } else if (combine) {
            const groups = groupByKey(cursor);
            const partition = p;
            const out = await runCombiner(combiner, groups, {
              partitionOfGroup: () => partition,
              partitionOf: this.checked,
              onlyPartition: partition,
              sink: (q, _k, _v, kb, ks, ke, vb, vs, ve) => writer.append(q, kb, ks, ke, vb, vs, ve),
            });
            this.combineInput += groups.records;
            this.combineOutput += out;
          } else {
            writer.appendAll(p, cursor);
          }
        } finally {
          cursor.close();
        }
      }
      const partitions = writer.close();
      this.spilled += writer.records;
      for (const run of this.runs) removeQuietly(run.path);
      this.runs.length = 0;
      return partitions;
    } catch (error) {
      writer.abort();
      throw error;
    }
  }

  private reportCounters(): void {
    const emittedBytes =
      this.emittedBytesOfOldTables +
      (this.table !== undefined
        ? this.table.emittedBytes
        : this.folds !== undefined
          ? this.folds.emittedBytes
          : (this.buffer as SortBuffer).emittedBytes);
    this.report('MAP_OUTPUT_RECORDS', this.emitted);
    this.report('MAP_OUTPUT_BYTES', emittedBytes);
    this.report('COMBINE_INPUT_RECORDS', this.combineInput);
    this.report('COMBINE_OUTPUT_RECORDS', this.combineOutput);
    this.report('SPILLED_RECORDS', this.spilled);
  }

  /** Adds the growth of a running total since the last report. */
  private report(name: string, total: number): void {
    const before = this.reported.get(name) ?? 0;
    if (total !== before) {
      this.options.counters.add(name, total - before);
      this.reported.set(name, total);
    }
  }

  private notOpen(what: string): TsmrError {
    const why =
      this.state === 'busy'
        ? 'while a spill or finish is running'
        : this.state === 'finished'
          ? 'after finish()'
          : 'after abort()';
    return new TsmrError(ErrorCode.INTERNAL, `MapOutputCollector.${what}() called ${why}`);
  }
}

/**
 * Writes a merged partition to `writer`, folding the values of equal keys
 * into one record (a key seen once is copied as it is, not decoded).
 * @returns the records read.
 * @throws TsmrError `TSMR_USER_CODE` when `fold` throws, `TSMR_BAD_JOB` when it returns a promise.
 */
function foldMerged(cursor: MergeCursor, partition: number, writer: RunWriter, fold: Fold): number {
  const key = new ByteWriter(256);
  const value = new ByteWriter(256);
  let pending = false;
  /** The folded value of the pending key, once it has a second record. */
  let acc: unknown;
  let folded = false;
  const flush = (): void => {
    if (folded) {
      value.reset();
      writeValue(value, acc);
    }
    writer.append(partition, key.buf, 0, key.pos, value.buf, 0, value.pos);
  };
  while (cursor.next()) {
    const buf = cursor.buf;
    if (pending && keyRangeEquals(buf, cursor.keyStart, cursor.keyEnd, key.buf, 0, key.pos)) {
      if (!folded) acc = decodeValue(value.buf, 0, value.pos);
      folded = true;
      acc = applyFold(fold, acc, decodeValue(buf, cursor.valueStart, cursor.valueEnd));
      continue;
    }
    if (pending) flush();
    key.reset();
    key.bytes(buf, cursor.keyStart, cursor.keyEnd);
    value.reset();
    value.bytes(buf, cursor.valueStart, cursor.valueEnd);
    pending = true;
    folded = false;
  }
  if (pending) flush();
  return cursor.records;
}

function badPartition(p: unknown, key: Key, numPartitions: number): TsmrError {
  let shown: string;
  try {
    shown =
      JSON.stringify(key, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))?.slice(0, 100) ??
      String(key);
  } catch {
    shown = String(key);
  }
  return new TsmrError(
    ErrorCode.BAD_PARTITION,
    `the partition function returned ${String(p)} for key ${shown}: it must return an integer in [0, ${numPartitions})`,
    { details: { partition: String(p), numPartitions } },
  );
}
