/**
 * Streaming jobs (Hadoop Streaming): any executable as mapper, combiner and
 * reducer, behind the same {@link JobBody} as module jobs, so they share the
 * planner, scheduler, sort/spill/merge and commit.
 *
 * Data model:
 * - input records are text lines as bytes (`{ type: 'text', encoding: 'buffer' }`);
 * - every output line of a mapper or combiner is split at its first tab into a
 *   key and a value (no tab: the whole line is the key, the value is empty);
 * - keys and values travel through the shuffle as latin1 strings (one
 *   character per byte): every byte survives, and since latin1 code points are
 *   the byte values and the key codec orders strings by code point (UTF-8),
 *   keys sort by their bytes, the order of `LC_ALL=C sort`, exactly as
 *   `Uint8Array` keys would. Strings take the fast paths of the codecs and of
 *   the map-side combine table (a `Buffer` value costs ~15× more to encode,
 *   a `Buffer` key ~25% more map CPU in a word count), and partition like the
 *   latin1 word count module job. Users never see this;
 * - a reducer's stdout goes to its part file byte for byte, through the
 *   `raw` output format (each line is emitted as a value, with a `null` key).
 *
 * See `docs/streaming.md` for the user-facing semantics.
 */
import type { CombineContext, Key, MapContext, ReduceContext, TaskContext, Values } from '../../api/types.ts';
import type { NormalizedInputFormat } from '../../io/record-reader.ts';
import type { NormalizedOutputFormat } from '../../io/output-writer.ts';
import type { Combiner, Group } from '../../shuffle/map-output-collector.ts';
import type { JobBody, MapperBody, ReducerBody } from '../job-body.ts';
import type { JobRef } from '../messages.ts';
import { sideFilesOf } from '../task-context.ts';
import { LineSplitter, splitKeyValue } from './line-splitter.ts';
import { StreamingProcess, type StreamingRole } from './streaming-process.ts';

export type StreamingJobRef = Extract<JobRef, { kind: 'streaming' }>;

/**
 * A map attempt's output is collected in memory until the task spills, which
 * it does between records. A mapper that writes much output without reading
 * input would otherwise have all of it emitted during one `record()` call:
 * after this many bytes, `record()` returns (its input stays queued) so the
 * task can spill.
 */
export const MAP_EMIT_BUDGET_BYTES = 1024 * 1024;

/** Longest reducer output line passed on as one record; longer lines go in pieces. */
export const OUTPUT_LINE_MAX_BYTES = 1024 * 1024;

const TAB = 0x09;
const NL = 0x0a;

/** The input format of every streaming job: lines as raw bytes. */
export const STREAMING_INPUT_FORMAT = { type: 'text', encoding: 'buffer' } as const;
/** The output format of every streaming job: the reducer's bytes as they are. */
export const STREAMING_OUTPUT_FORMAT = { type: 'raw' } as const;

/** Builds the body of a streaming job. Commands are run by `/bin/sh -c`. */
export function streamingJobBody(ref: StreamingJobRef): JobBody {
  const { mapper, combiner, reducer } = ref;
  return {
    name: 'streaming',
    inputFormat: STREAMING_INPUT_FORMAT as unknown as NormalizedInputFormat,
    outputFormat: STREAMING_OUTPUT_FORMAT as unknown as NormalizedOutputFormat,
    mapper: (ctx) => new StreamingMapper(mapper, ctx),
    combiner: combiner === undefined ? undefined : (ctx) => streamingCombiner(combiner, ctx),
    reducer: (ctx) => (reducer === undefined ? new IdentityReducer(ctx) : new StreamingReducer(reducer, ctx)),
  };
}

/** The `TSMR_*` environment of a command. */
export function streamingEnv(
  ctx: TaskContext,
  type: StreamingRole,
  partition?: number,
): Record<string, string> {
  const env: Record<string, string> = {
    TSMR_JOB_ID: ctx.jobId,
    TSMR_TASK_ID: ctx.taskId,
    TSMR_TASK_TYPE: type,
    TSMR_ATTEMPT: String(ctx.attempt),
    TSMR_NUM_REDUCERS: String(ctx.numReducers),
  };
  if (partition !== undefined) env.TSMR_PARTITION = String(partition);
  return env;
}

function start(
  command: string,
  role: StreamingRole,
  ctx: TaskContext,
  onStdout: (chunk: Buffer) => void,
  partition?: number,
): StreamingProcess {
  return new StreamingProcess({
    command,
    role,
    env: streamingEnv(ctx, role, partition),
    onStdout,
    emitBudgetBytes: role === 'map' ? MAP_EMIT_BUDGET_BYTES : undefined,
    reporter: {
      counter: (group, name, n) => ctx.counter(group, name).increment(n),
      status: (text) => ctx.setStatus(text),
    },
    taskId: ctx.taskId,
    attempt: ctx.attempt,
    sideFiles: sideFilesOf(ctx),
  });
}

/** One mapper process per map attempt: records in as lines, lines out as pairs. */
class StreamingMapper implements MapperBody {
  private readonly process: StreamingProcess;
  private readonly lines: LineSplitter;

  constructor(command: string, ctx: MapContext) {
    const emit = (key: string, value: string): void => ctx.emit(key, value);
    this.lines = new LineSplitter((buf, start, end) => splitKeyValue(buf, start, end, emit));
    this.process = start(command, 'map', ctx, (chunk) => this.lines.push(chunk));
  }

  record(_offset: unknown, line: unknown): void | Promise<void> {
    const wait = this.process.write(toBytes(line));
    if (wait !== undefined) return wait.then(() => this.process.writeByte(NL));
    return this.process.writeByte(NL);
  }

  async close(): Promise<void> {
    await this.process.finish();
    this.lines.end();
  }

  /** Kills the process and removes its scratch directory (for an attempt that ends early). */
  abort(): void {
    this.process.destroy();
  }
}

/**
 * A combiner process per call (per spill): each group's values go in as
 * `key\tvalue` lines, in the (partition, key) order the groups come in; output
 * lines are parsed like a mapper's. A combiner must keep that order (as a
 * reducer-style script that prints one line per run of equal keys does).
 */
function streamingCombiner(command: string, ctx: CombineContext): Combiner {
  return (groups, emit) => {
    const it = groups[Symbol.iterator]();
    const first = it.next();
    if (first.done) return;
    const emitPair = (key: string, value: string): void => emit(key, value);
    const lines = new LineSplitter((buf, s, e) => splitKeyValue(buf, s, e, emitPair));
    const process = start(command, 'combine', ctx, (chunk) => lines.push(chunk));
    return feedGroups(process, first.value, it).then(
      async () => {
        await process.finish();
        lines.end();
      },
      (error: unknown) => {
        process.destroy();
        throw error;
      },
    );
  };
}

async function feedGroups(process: StreamingProcess, first: Group, rest: Iterator<Group>): Promise<void> {
  const writer = new PairWriter(process);
  for (let next: IteratorResult<Group> = { done: false, value: first }; !next.done; next = rest.next()) {
    const wait = writer.group(next.value.key, next.value.values);
    if (wait !== undefined) await wait;
  }
}

/** Writes a group as `key\tvalue\n` lines to a process, awaiting drain when needed. */
class PairWriter {
  private readonly process: StreamingProcess;

  constructor(process: StreamingProcess) {
    this.process = process;
  }

  group(key: Key, values: Values<unknown>): void | Promise<void> {
    // Keys are latin1 strings (see the top of this file); other keys are written as bytes.
    const k = typeof key === 'string' ? key : toBytes(key);
    const it = values[Symbol.iterator]();
    for (let next = it.next(); !next.done; next = it.next()) {
      const wait = this.pair(k, next.value);
      if (wait !== undefined) return wait.then(() => this.rest(k, it));
    }
  }

  private async rest(key: string | Uint8Array, it: Iterator<unknown>): Promise<void> {
    for (let next = it.next(); !next.done; next = it.next()) await this.pair(key, next.value);
  }

  private pair(key: string | Uint8Array, value: unknown): void | Promise<void> {
    const wait = typeof key === 'string' ? this.process.writeLatin1(key) : this.process.write(key);
    if (wait !== undefined) return wait.then(() => this.tabValue(value));
    return this.tabValue(value);
  }

  private tabValue(value: unknown): void | Promise<void> {
    const wait = this.process.writeByte(TAB);
    if (wait !== undefined) return wait.then(() => this.valueNewline(value));
    return this.valueNewline(value);
  }

  private valueNewline(value: unknown): void | Promise<void> {
    const p = this.process;
    const wait = typeof value === 'string' ? p.writeLatin1(value) : p.write(toBytes(value));
    if (wait !== undefined) return wait.then(() => p.writeByte(NL));
    return p.writeByte(NL);
  }
}

/** One reducer process per reduce attempt; its stdout is the part file, byte for byte. */
class StreamingReducer implements ReducerBody {
  private readonly process: StreamingProcess;
  private readonly writer: PairWriter;

  private readonly output: OutputLines;

  constructor(command: string, ctx: ReduceContext) {
    this.output = new OutputLines((bytes) => ctx.emit(null, bytes));
    this.process = start(command, 'reduce', ctx, (chunk) => this.output.push(chunk), ctx.partition);
    this.writer = new PairWriter(this.process);
  }

  group(key: Key, values: Values<unknown>): void | Promise<void> {
    return this.writer.group(key, values);
  }

  async close(): Promise<void> {
    await this.process.finish();
    this.output.end();
  }

  /** Kills the process and removes its scratch directory (for an attempt that ends early). */
  abort(): void {
    this.process.destroy();
  }
}

/**
 * Passes a reducer's stdout on one line (with its `\n`) per record, so that
 * output record counts mean lines; the bytes are unchanged, and a last line
 * without `\n` is passed on as it is. A line longer than
 * {@link OUTPUT_LINE_MAX_BYTES} is passed on in pieces (memory stays bounded).
 */
class OutputLines {
  private readonly emit: (bytes: Buffer) => void;
  private carry: Buffer[] = [];
  private carryBytes = 0;

  constructor(emit: (bytes: Buffer) => void) {
    this.emit = emit;
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(NL); nl !== -1; nl = chunk.indexOf(NL, start)) {
      if (this.carryBytes > 0) {
        this.carry.push(chunk.subarray(start, nl + 1));
        this.emitCarry();
      } else {
        this.emit(chunk.subarray(start, nl + 1));
      }
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.carry.push(chunk.subarray(start));
      this.carryBytes += chunk.length - start;
      if (this.carryBytes > OUTPUT_LINE_MAX_BYTES) this.emitCarry();
    }
  }

  end(): void {
    if (this.carry.length > 0) this.emitCarry();
  }

  private emitCarry(): void {
    const bytes = this.carry.length === 1 ? this.carry[0] : Buffer.concat(this.carry);
    this.carry = [];
    this.carryBytes = 0;
    this.emit(bytes);
  }
}

/**
 * Without `--reducer`: writes `key\tvalue\n` for every value, i.e. the
 * sorted map output, one output record per line. The line is built in a
 * reused buffer: the raw output writer copies what it is given.
 */
class IdentityReducer implements ReducerBody {
  private readonly ctx: ReduceContext;
  private buf = Buffer.allocUnsafe(4096);
  private pos = 0;

  constructor(ctx: ReduceContext) {
    this.ctx = ctx;
  }

  group(key: Key, values: Values<unknown>): void {
    for (const value of values) {
      this.pos = 0;
      this.put(key);
      this.putByte(TAB);
      this.put(value);
      this.putByte(NL);
      this.ctx.emit(null, this.buf.subarray(0, this.pos));
    }
  }

  private put(x: unknown): void {
    if (typeof x === 'string') {
      this.room(x.length);
      this.pos += this.buf.write(x, this.pos, 'latin1');
    } else {
      const bytes = toBytes(x);
      this.room(bytes.length);
      this.buf.set(bytes, this.pos);
      this.pos += bytes.length;
    }
  }

  private putByte(byte: number): void {
    this.room(1);
    this.buf[this.pos++] = byte;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.pos + n, this.buf.length * 2));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }
}

/** Bytes of a record line, key or value: `Uint8Array`s as they are, strings as latin1. */
function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return Buffer.from(value, 'latin1');
  if (value === undefined || value === null) return new Uint8Array(0);
  return Buffer.from(String(value), 'latin1');
}
