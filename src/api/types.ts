/**
 * Types that job code sees. This file has no runtime code and no Node-only
 * imports: it is the boundary between user jobs and the engine.
 */
import type { TotalOrderPartitioner } from './total-order.ts';

/** A key atom. Strings order by UTF-8 bytes, numbers numerically, `Uint8Array` by bytes. */
export type KeyAtom = string | number | bigint | boolean | null | Uint8Array;

/**
 * A key: an atom or an array (tuple) of keys, nested to any depth.
 *
 * Keys are totally ordered by their encoded bytes (see `src/shuffle/key-codec.ts`),
 * the same on every machine and Node version. Across types the order is
 * `null < false < true < number < bigint < string < Uint8Array < array`;
 * numbers and bigints are different keys (`1 !== 1n`); `-0` is `0`; `NaN`
 * sorts after `Infinity`. Arrays order element by element, a prefix first.
 */
export type Key = KeyAtom | readonly Key[];

/**
 * A value: anything the V8 structured-clone serializer round-trips (primitives,
 * bigint, plain objects, arrays, Map, Set, Date, RegExp, typed arrays, Error).
 * Functions, symbols and class instances' prototypes are not preserved.
 */
export type Value = unknown;

/**
 * A key's values in `combine` and `reduce`: iterable both synchronously
 * (`for (const v of values)`, fastest) and asynchronously (`for await`).
 * Each value is read once, in a stream: a key's values never have to fit in
 * memory. Iterating a second time yields nothing.
 *
 * `K` is the key type of {@link Values.entries}: the job's map output key in
 * `reduce` and `combine`. Its default is `any`, so that a `Values<V>` written
 * for a helper function fits the values of any job, and the other way round.
 */
/* eslint-disable-next-line @typescript-eslint/no-explicit-any -- a Values<V> fits every key type */
export interface Values<V, K = any> extends Iterable<V>, AsyncIterable<V> {
  /**
   * The same values, each with its own full key: `[key, value]` pairs, in the
   * same one pass (values taken through `entries()` are not seen again by
   * iterating `values`, and the other way round). With
   * {@link JobDefinition.groupBy} the keys of one `reduce` call differ in the
   * elements after the prefix, and come in ascending order (secondary sort):
   * `for (const [[, time], subject] of messages.entries())`. Without it every
   * key equals the key `reduce` or `combine` was called with.
   */
  entries(): KeyedValues<K, V>;
}

/** `[key, value]` pairs of {@link Values.entries}, iterable once, synchronously or asynchronously. */
export interface KeyedValues<K, V> extends Iterable<[K, V]>, AsyncIterable<[K, V]> {}

/** A named 64-bit count (`group/name`); job counters sum committed attempts only. */
export interface Counter {
  readonly group: string;
  readonly name: string;
  /** Adds `by` (default 1; may be negative). */
  increment(by?: number): void;
  readonly value: number;
}

/** What every task function receives. */
export interface TaskContext {
  /** Job id, e.g. `job-20261121-081500-ab12`. */
  readonly jobId: string;
  /** Task id: `m-00003` for map task 3, `r-00001` for reduce task 1. */
  readonly taskId: string;
  /** Attempt number of this execution of the task: 0, 1, 2 … */
  readonly attempt: number;
  /**
   * Job parameters. From `tsmr run --param name=value` every value is a
   * string, never parsed (as Hadoop's `-D name=value`): `--param n=3` gives
   * `'3'`, convert it yourself (`Number(ctx.params.n)`). From
   * `runJob(…, { params })` values keep their JSON types (string, number,
   * boolean, null).
   */
  readonly params: Readonly<Record<string, string | number | boolean | null>>;
  /** Number of reduce tasks (partitions) R. */
  readonly numReducers: number;
  /** A counter of this attempt; the handle may be kept and reused. */
  counter(group: string, name: string): Counter;
  /**
   * Local path of the side file `name` shipped with the job (Hadoop's
   * distributed cache): `files: ['data/stop.txt']` in the job or `tsmr run
   * --file data/stop.txt` ship it as `stop.txt`; `path#name` names it. Every
   * task of the job (map, combine, reduce) can read it, e.g. once per worker
   * thread into a lookup table (a map-side or broadcast join). The file must
   * not change while the job runs.
   * @throws TsmrError `TSMR_BAD_JOB` when no file of that name was shipped.
   */
  file(name: string): string;
  /** Sets the attempt's status line, shown in progress and the job report. */
  setStatus(text: string): void;
}

/** Context of `map`. */
export interface MapContext<K extends Key = Key, V = Value> extends TaskContext {
  /** Sends `(key, value)` to the shuffle. Keys must be {@link Key}s. */
  emit(key: K, value: V): void;
  /**
   * Sends `(text, value)` to the shuffle, where the key `text` is the string
   * that the bytes `bytes[start, end)` decode to: exactly
   * `emit(Buffer.from(bytes).toString(encoding, start, end), value)`, but
   * without making the string for a key the map task already holds (a job
   * with `combineValues` or `combine` looks the key up as bytes; Hadoop's
   * `Text` keys are bytes too). For jobs that read bytes, e.g.
   * `inputFormat: { type: 'text', encoding: 'buffer' }` (see
   * `examples/wordcount.ts`). The bytes are read during the call only: the
   * caller may reuse them afterwards.
   * @param encoding `'utf8'` (default; ill-formed bytes decode to U+FFFD, as
   *   `Buffer.toString` does) or `'latin1'` (one character per byte, so any
   *   bytes come back out unchanged through a latin1 output).
   * @throws TsmrError `TSMR_BAD_KEY` when `bytes` is not a `Uint8Array` or
   *   `[start, end)` is not a range of integers within it; else as `emit`.
   */
  emitText(bytes: Uint8Array, start: number, end: number, value: V, encoding?: 'utf8' | 'latin1'): void;
  /** Path of the input file of the current record (`''` for in-memory input). */
  readonly inputFile: string;
  /** Index of the current record's input in the job's `inputs` (0 for a job without `inputs`). */
  readonly input: number;
}

/** Context of `combine`: it must emit only the key it was called with. */
export interface CombineContext<K extends Key = Key, V = Value> extends TaskContext {
  emit(key: K, value: V): void;
}

/** Context of `reduce`. */
export interface ReduceContext<K = unknown, V = unknown> extends TaskContext {
  /** Writes one output record. */
  emit(key: K, value: V): void;
  /** The partition this reduce task owns, in `[0, numReducers)`. */
  readonly partition: number;
}

/**
 * How input files become records.
 * - `'text'` (default): one record per line, key = byte offset of the line in its
 *   file, value = the line without `\n` or `\r\n`. `encoding` says how bytes become
 *   the value: `'utf8'` (default; invalid bytes become U+FFFD), `'latin1'` (one
 *   character per byte: every byte passes through unchanged, and string order equals
 *   byte order), or `'buffer'` (a `Buffer` of the line's bytes).
 * - `{ type: 'text', encoding: 'buffer', blocks: true }`: the same lines, whole
 *   and with their line ends, several to a record: each record is a `Buffer` of
 *   consecutive lines (about 1 MiB of them), key = byte offset of its first
 *   line. For maps that scan bytes (`examples/wordcount.ts`): one call per block
 *   instead of one per line. `MAP_INPUT_RECORDS` counts blocks.
 * - `'jsonl'`: one JSON value per non-empty line, key = byte offset.
 * - `{ fixed: n }`: records of exactly `n` bytes with no separator (Hadoop's
 *   `FixedLengthInputFormat`), key = byte offset, value = a `Buffer` of the
 *   record's bytes. A file whose size is not a multiple of `n` fails with
 *   `TSMR_BAD_RECORD` at its last, cut, record.
 * - `'tsmr'`: tsmr's binary key-value records, as the `'tsmr'` output format
 *   writes them (Hadoop's `SequenceFileInputFormat`): key and value come back
 *   with their types (tuples, numbers, bigints, strings, Buffers, objects).
 *   Each file is one split (the format has no sync markers to cut it at).
 *   The steps of a pipeline read each other's output this way.
 */
export type InputFormat =
  | 'text'
  | 'jsonl'
  | 'tsmr'
  | { type: 'tsmr' }
  | { type: 'text'; encoding?: 'utf8' | 'latin1' | 'buffer' }
  | { type: 'text'; encoding: 'buffer'; blocks: true }
  | { type: 'jsonl' }
  | { fixed: number };

/**
 * How reduce output is written to `part-r-NNNNN` files.
 * - `'text'` (default): `key\tvalue\n`. Strings are written as they are (in
 *   `encoding`, default `'utf8'`; use `'latin1'` to write back bytes read with a
 *   latin1 input), `Uint8Array`s as raw bytes, `null`/`undefined` values as nothing
 *   after the tab, numbers/bigints/booleans with `String()`, anything else as JSON.
 * - `'jsonl'`: one `{"key":…,"value":…}` object per line (bigints as strings,
 *   `Uint8Array` as base64 strings).
 * - `'raw'`: each value's bytes as they are (`Uint8Array`; strings in UTF-8),
 *   no key, separator or newline; other values fail with `TSMR_BAD_VALUE`.
 *   Records read with `{ fixed: n }` and emitted unchanged come out byte for byte.
 * - `'tsmr'`: tsmr's binary key-value records (Hadoop's `SequenceFile`), for
 *   another job to read with `inputFormat: 'tsmr'`: keys and values keep
 *   their types (anything the value codec takes: see {@link Value}); a value
 *   that cannot be serialized fails with `TSMR_BAD_VALUE`. What the steps of
 *   a pipeline but the last write.
 */
export type OutputFormat =
  | 'text'
  | 'jsonl'
  | 'raw'
  | 'tsmr'
  | { type: 'tsmr' }
  | { type: 'text'; encoding?: 'utf8' | 'latin1' }
  | { type: 'jsonl' }
  | { type: 'raw' };

/**
 * A job: `map`, optional `combine`, `reduce`, and their settings.
 *
 * Type parameters: `KI`/`VI` input record key/value, `K`/`V` intermediate
 * key/value (map output, reduce input), `KO`/`VO` output key/value.
 *
 * Semantics follow Google MapReduce (Dean & Ghemawat, OSDI 2004) §2 and Hadoop:
 * - `map` is called once per input record and emits intermediate pairs.
 * - `combine` (optional) is called on map output for one key at a time, any number
 *   of times (0, 1 or more) at spill and merge, and must emit pairs with that same
 *   key; it must be associative and commutative in effect (like Hadoop's combiner).
 * - `reduce` is called once per intermediate key, in ascending key order within a
 *   partition, with all of that key's values.
 * - `partition` (optional) maps a key to `[0, numPartitions)`; default: xxHash64 of
 *   the encoded key mod R; `totalOrder()` partitions by ranges of sampled keys,
 *   so that the part files concatenated are sorted (Hadoop's `TotalOrderPartitioner`).
 *   With `groupBy`, the default hashes the encoded prefix.
 * - `groupBy` (optional) makes `reduce` see tuple keys grouped by their first
 *   elements, values ordered by the rest (secondary sort).
 *
 * Each function may return a promise; tsmr awaits it before the next call.
 */
export interface JobDefinition<
  KI = number,
  VI = string,
  K extends Key = Key,
  V = Value,
  KO = unknown,
  VO = unknown,
> {
  /** Human name used in reports (default: the module's file name). */
  name?: string;
  /** Input format (default `'text'`). */
  inputFormat?: InputFormat;
  /** Output format (default `'text'`). */
  outputFormat?: OutputFormat;
  /**
   * Default number of reduce tasks R when neither the CLI nor `runJob` gives
   * one. 0 makes the job map-only (Hadoop's `setNumReduceTasks(0)`): no
   * shuffle, no sort; each map task writes what it emits, in emit order, to
   * `part-m-NNNNN` in the output format. The default of a job without `reduce`.
   */
  reducers?: number;
  /**
   * Secondary sort (Hadoop's grouping comparator, `Job.setGroupingComparatorClass`):
   * keys must be tuples (arrays) of at least `groupBy` elements, and `reduce` is
   * called once per distinct prefix of their first `groupBy` elements, with the
   * values of all keys sharing it in ascending order of the whole key, i.e. of
   * the elements after the prefix. An integer >= 1; default: none (one call per
   * distinct key).
   *
   * - `reduce(key, values)` gets the group's first (smallest) full key, as
   *   Hadoop passes it; `key.slice(0, groupBy)` is the group's prefix, and
   *   `values.entries()` gives each value with its own full key.
   * - The default partitioner hashes the encoded prefix, so a group never
   *   spans two reduce tasks. A custom `partition` gets the full key and must
   *   send keys with equal prefixes to the same partition.
   * - `combine` and `combineValues` still see one full key at a time (Hadoop
   *   runs combiners with the sort order, not the grouping).
   *
   * Example: `groupBy: 1` with keys `[domain, time]` gives one `reduce` call per
   * domain, its values in time order.
   *
   * A map that emits a key that is not an array of at least `groupBy` elements
   * fails with `TSMR_BAD_KEY` at that key (not retried: the same record emits it
   * again). Not for streaming jobs (their keys are strings).
   */
  groupBy?: number;
  /**
   * Called once per input record. Required, unless every entry of `inputs`
   * has its own `map` (then `inputs` entries without one use this one).
   */
  map?(key: KI, value: VI, ctx: MapContext<K, V>): void | Promise<void>;
  /**
   * Several inputs, each read with its own input format and `map` (Hadoop's
   * `MultipleInputs`), e.g. the two sides of a reduce-side join: both maps
   * emit the join key, and `reduce` sees the values of both sides together
   * (tag them, or use `groupBy` with the side in the key to get one side
   * first). The job's paths are then the inputs' `paths`, and `tsmr run` takes
   * no `--input` (`runJob` no `input`). Each split holds records of one input.
   */
  inputs?: readonly JobInput<K, V>[];
  /**
   * Side files shipped to every task (Hadoop's distributed cache, `-files`):
   * paths, relative to the working directory, each read in tasks through
   * `ctx.file(name)` under its base name or the `#name` after it
   * (`'data/stop-words.txt#stop'`). Added to those of `tsmr run --file` / `runJob`'s `files`.
   */
  files?: readonly string[];
  combine?(key: K, values: Values<V, K>, ctx: CombineContext<K, V>): void | Promise<void>;
  /**
   * A binary, associative and commutative function folding two values of one
   * key into one (Spark's `reduceByKey` function / `mergeValue`), e.g.
   * `(a, b) => a + b`. When given, map output is folded per key as it is
   * emitted (one value per distinct key in memory), at spills and at the final
   * merge, and `combine` must not be given. `reduce` still sees every
   * remaining value of a key (one per map output segment). It must be
   * synchronous (an `async` function is refused with `TSMR_BAD_JOB` before any
   * task runs; a returned promise fails the attempt with `TSMR_BAD_JOB`); it
   * may return its first argument, changed.
   */
  combineValues?(a: V, b: V): V;
  /**
   * Called once per intermediate key (or `groupBy` group). Leave it out for a
   * map-only job (R = 0, see {@link JobDefinition.reducers}).
   */
  reduce?(key: K, values: Values<V, K>, ctx: ReduceContext<KO, VO>): void | Promise<void>;
  /**
   * A function from a key to its partition in `[0, numPartitions)`, or
   * `totalOrder()` for globally sorted output (see `totalOrder`).
   */
  partition?: ((key: K, numPartitions: number) => number) | TotalOrderPartitioner;
}

/**
 * One of a job's {@link JobDefinition.inputs}: where its records come from,
 * how they are read, and the `map` they go to.
 */
export interface JobInput<K extends Key = Key, V = Value> {
  /**
   * Files, directories or globs (as `--input` takes them), or a function of
   * the job parameters that returns them, called once when the job is
   * planned: `paths: (params) => String(params.counts ?? 'data/counts')`.
   */
  paths:
    | string
    | readonly string[]
    | ((params: Readonly<Record<string, string | number | boolean | null>>) => string | readonly string[]);
  /** How this input's files become records (default: the job's `inputFormat`). */
  inputFormat?: InputFormat;
  /**
   * This input's map (default: the job's `map`). Its key and value are this
   * input's records (text: byte offset and line), declared as the map's
   * parameter types; it emits the job's intermediate `K`, `V`.
   */
  /* eslint-disable-next-line @typescript-eslint/no-explicit-any -- each input has its own record types */
  map?(key: any, value: any, ctx: MapContext<K, V>): void | Promise<void>;
}

/** A job as returned by `defineJob`: the definition plus a brand. */
/* eslint-disable-next-line @typescript-eslint/no-explicit-any -- a Job of any types */
export type Job<KI = any, VI = any, K extends Key = any, V = any, KO = any, VO = any> = Readonly<
  Omit<JobDefinition<KI, VI, K, V, KO, VO>, 'map'>
> & {
  /** The job's `map`; for a job with `inputs`, one that calls the map of the record's input (`ctx.input`). */
  map(key: KI, value: VI, ctx: MapContext<K, V>): void | Promise<void>;
  readonly __tsmrJob: true;
  /** URL of the module that called `defineJob`, when it could be determined. */
  readonly moduleUrl: string | undefined;
  /** Position of this job among the jobs `moduleUrl` defined (0 for its first `defineJob` call). */
  readonly definitionIndex: number;
};
