/**
 * Writes reduce output records to a `part-r-NNNNN` file, as text lines, JSONL
 * or raw bytes.
 *
 * Writers run inside worker threads, where a synchronous write blocks nothing
 * else: records are encoded into a ~1 MiB buffer which is written with
 * `fs.writeSync`, so `write` costs no promise per record.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { OutputFormat } from '../api/types.ts';
import { ErrorCode, TsmrError } from '../errors.ts';
import { ByteWriter } from '../shuffle/byte-writer.ts';
import { closeQuietly } from '../shuffle/file-io.ts';
import { ioError } from './io-error.ts';
import { TSMR_RECORDS_MAGIC, writeKeyValue } from './tsmr-records.ts';

/** An output format with its defaults filled in. */
export type NormalizedOutputFormat =
  { type: 'text'; encoding: 'utf8' | 'latin1' } | { type: 'jsonl' } | { type: 'raw' } | { type: 'tsmr' };

/** A file of output records. */
export interface OutputWriter {
  /**
   * Appends one record.
   * @throws TsmrError `TSMR_IO` when a buffered write fails (disk full…);
   *   `TSMR_BAD_VALUE` when a key or value cannot be written as JSON (a cycle).
   */
  write(key: unknown, value: unknown): void;
  /**
   * Writes what is buffered and closes the file (without fsync, as Hadoop's
   * output formats do; commit is by rename). Calling it again returns the same result.
   * @returns the records written and the file's size in bytes.
   * @throws TsmrError `TSMR_IO` when writing or closing fails.
   */
  close(): Promise<{ records: number; bytes: number }>;
  /** Closes and deletes the file, ignoring errors. */
  abort(): Promise<void>;
}

const FLUSH_BYTES = 1 << 20;

const OUTPUT_FORMAT_HELP =
  "outputFormat must be 'text', 'jsonl', 'raw', 'tsmr', { type: 'text', encoding?: 'utf8' | 'latin1' }, { type: 'jsonl' }, { type: 'raw' } or { type: 'tsmr' }";

/**
 * Fills in the defaults of an output format: `undefined` and `'text'` are
 * `{ type: 'text', encoding: 'utf8' }`, `'jsonl'`, `'raw'` and `'tsmr'` are
 * `{ type: 'jsonl' }`, `{ type: 'raw' }` and `{ type: 'tsmr' }`.
 * @throws TsmrError `TSMR_BAD_JOB` for anything else (unknown type, encoding or property).
 */
export function normalizeOutputFormat(f: OutputFormat | undefined): NormalizedOutputFormat {
  if (f === undefined || f === 'text') return { type: 'text', encoding: 'utf8' };
  if (f === 'jsonl' || f === 'raw' || f === 'tsmr') return { type: f };
  if (typeof f === 'object' && f !== null) {
    const keys = Object.keys(f);
    if (f.type === 'jsonl' || f.type === 'raw' || f.type === 'tsmr') {
      if (keys.length === 1) return { type: f.type };
    } else if (f.type === 'text') {
      const encoding = (f as { encoding?: unknown }).encoding ?? 'utf8';
      const known = keys.every((k) => k === 'type' || k === 'encoding');
      if (known && (encoding === 'utf8' || encoding === 'latin1')) return { type: 'text', encoding };
    }
  }
  let got: string;
  try {
    got = JSON.stringify(f) ?? String(f);
  } catch {
    got = String(f);
  }
  throw new TsmrError(ErrorCode.BAD_JOB, `${OUTPUT_FORMAT_HELP}; got ${got}`);
}

/**
 * Creates (or truncates) the file at `path` and returns a writer for it.
 *
 * Text (`{ type: 'text' }`): one `key\tvalue\n` line per record, as Hadoop's
 * `TextOutputFormat`. Keys and values are written the same way: strings as
 * they are, in `encoding` (`'latin1'` writes each character's low byte, so
 * strings read with a latin1 input come back as the original bytes);
 * `Uint8Array`s as raw bytes; `null` and `undefined` as nothing; numbers,
 * bigints and booleans with `String()`; anything else as JSON (bigints as
 * strings, `Uint8Array`s as base64), in `encoding`.
 *
 * JSONL (`{ type: 'jsonl' }`): one `{"key":…,"value":…}\n` object per record,
 * UTF-8; bigints as strings, `Uint8Array`s as base64 strings, `undefined` as `null`.
 *
 * Raw (`{ type: 'raw' }`): each record's value as it is, and nothing else (no
 * key, separator or line end): a `Uint8Array`'s bytes, a string in UTF-8. The
 * bytes are copied before `write` returns, so the caller may reuse its buffer.
 * Fixed-length records read with `{ fixed: n }` and emitted unchanged come out
 * byte for byte (Hadoop's `TeraOutputFormat` writes its records the same way).
 * Any other value is `TSMR_BAD_VALUE`.
 *
 * tsmr records (`{ type: 'tsmr' }`, `tsmr-records.ts`): a header, then each
 * record's key and value in the value codec's encoding, for a later job's
 * `inputFormat: 'tsmr'`. A key or value V8 cannot serialize is `TSMR_BAD_VALUE`.
 *
 * @throws TsmrError `TSMR_IO` naming the file when it cannot be created.
 */
export function createOutputWriter(path: string, format: NormalizedOutputFormat): OutputWriter {
  return new FileOutputWriter(path, format);
}

class FileOutputWriter implements OutputWriter {
  private readonly path: string;
  private readonly jsonl: boolean;
  private readonly raw: boolean;
  /** Set for the tsmr records format: its scratch encoder. */
  private readonly binary: ByteWriter | undefined;
  private readonly encoding: 'utf8' | 'latin1';
  private fd: number | undefined;
  private readonly out = new ByteWriter(FLUSH_BYTES + 64 * 1024);
  private records = 0;
  private bytes = 0;
  private failure: TsmrError | undefined;
  private result: { records: number; bytes: number } | undefined;

  constructor(path: string, format: NormalizedOutputFormat) {
    this.path = path;
    this.jsonl = format.type === 'jsonl';
    this.raw = format.type === 'raw';
    this.binary = format.type === 'tsmr' ? new ByteWriter(256) : undefined;
    this.encoding = format.type === 'text' ? format.encoding : 'utf8';
    try {
      this.fd = openSync(path, 'w');
    } catch (cause) {
      throw ioError(`cannot create the output file ${path}`, cause, { file: path });
    }
    if (this.binary !== undefined) this.out.bytes(TSMR_RECORDS_MAGIC);
  }

  write(key: unknown, value: unknown): void {
    if (this.fd === undefined) this.notOpen();
    const out = this.out;
    if (this.raw) {
      if (value instanceof Uint8Array) out.bytes(value);
      else if (typeof value === 'string') out.string(value);
      else throw rawValueError(value);
      this.records++;
      if (out.pos >= FLUSH_BYTES) this.flush();
      return;
    }
    const mark = out.pos;
    try {
      if (this.binary !== undefined) {
        writeKeyValue(out, this.binary, key, value);
        this.records++;
        if (out.pos >= FLUSH_BYTES) this.flush();
        return;
      }
      if (this.jsonl) {
        out.string('{"key":', 'latin1');
        writeJson(out, key);
        out.string(',"value":', 'latin1');
        writeJson(out, value);
        out.byte(0x7d); // }
      } else {
        writeText(out, key, this.encoding);
        out.byte(0x09);
        writeText(out, value, this.encoding);
      }
    } catch (error) {
      out.pos = mark; // no half record
      throw error;
    }
    out.byte(0x0a);
    this.records++;
    if (out.pos >= FLUSH_BYTES) this.flush();
  }

  async close(): Promise<{ records: number; bytes: number }> {
    if (this.result !== undefined) return this.result;
    if (this.fd === undefined) this.notOpen();
    this.flush();
    const fd = this.fd as number;
    this.fd = undefined;
    try {
      closeSync(fd);
    } catch (cause) {
      throw this.fail(cause);
    }
    this.result = { records: this.records, bytes: this.bytes };
    return this.result;
  }

  async abort(): Promise<void> {
    const fd = this.fd;
    this.fd = undefined;
    this.result = undefined;
    this.out.reset();
    if (fd !== undefined) closeQuietly(fd); // the file is deleted next
    this.failure ??= new TsmrError(ErrorCode.INTERNAL, `the output file ${this.path} was aborted`);
    await rm(this.path, { force: true }).catch(() => {});
  }

  private flush(): void {
    const out = this.out;
    let done = 0;
    try {
      while (done < out.pos) done += writeSync(this.fd as number, out.buf, done, out.pos - done);
    } catch (cause) {
      throw this.fail(cause);
    }
    this.bytes += out.pos;
    out.reset();
  }

  /** Records a write failure: the file is closed, later calls throw the same error. */
  private fail(cause: unknown): TsmrError {
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) closeQuietly(fd); // the write error is the one to report
    this.failure = ioError(`cannot write the output file ${this.path}`, cause, { file: this.path });
    return this.failure;
  }

  private notOpen(): never {
    throw (
      this.failure ??
      new TsmrError(ErrorCode.INTERNAL, `the output file ${this.path} is closed; cannot write to it`)
    );
  }
}

function rawValueError(value: unknown): TsmrError {
  const what = value === null ? 'null' : typeof value === 'object' ? value.constructor?.name : typeof value;
  return new TsmrError(
    ErrorCode.BAD_VALUE,
    `the raw output format writes values that are Uint8Arrays (Buffers) or strings, as they are; got ${what ?? 'an object'}: ` +
      "emit the bytes to write as the value (ctx.emit(key, bytes)), or use the 'text' or 'jsonl' output format",
  );
}

/** Appends `x` in the text format's representation. */
function writeText(out: ByteWriter, x: unknown, encoding: 'utf8' | 'latin1'): void {
  switch (typeof x) {
    case 'string':
      out.string(x, encoding);
      return;
    case 'number':
    case 'bigint':
    case 'boolean':
      out.string(String(x), 'latin1');
      return;
    case 'undefined':
      return;
    default:
      if (x === null) return;
      if (x instanceof Uint8Array) {
        out.bytes(x);
        return;
      }
      out.string(toJson(x) ?? '', encoding);
  }
}

/** Appends `x` as a JSON value. */
function writeJson(out: ByteWriter, x: unknown): void {
  switch (typeof x) {
    case 'string':
      out.string(JSON.stringify(x));
      return;
    case 'number':
      out.string(Number.isFinite(x) ? String(x) : 'null', 'latin1');
      return;
    case 'bigint':
      out.byte(0x22);
      out.string(String(x), 'latin1');
      out.byte(0x22);
      return;
    case 'boolean':
      out.string(x ? 'true' : 'false', 'latin1');
      return;
    default:
      out.string(toJson(x) ?? 'null');
  }
}

/**
 * `JSON.stringify` with bigints as strings and `Uint8Array`s as base64; `undefined` when JSON has no form for `x`.
 * @throws TsmrError `TSMR_BAD_VALUE` when JSON cannot hold `x` (a cycle).
 */
export function toJson(x: unknown): string | undefined {
  try {
    return JSON.stringify(x, jsonReplacer);
  } catch (cause) {
    throw new TsmrError(
      ErrorCode.BAD_VALUE,
      `cannot write an output record as JSON: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
}

function jsonReplacer(this: unknown, key: string, value: unknown): unknown {
  // `Buffer#toJSON` runs before the replacer: look at the holder's original value.
  const original = (this as Record<string, unknown>)[key];
  if (original instanceof Uint8Array) {
    return Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString('base64');
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}
