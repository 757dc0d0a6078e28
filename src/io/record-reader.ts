/**
 * Reads the records of a split: lines of text files, JSON values of JSONL
 * files, items of spooled in-memory input. This is the hot path of every map
 * task: it reads ~1 MiB chunks, finds line ends with `Buffer.indexOf`, and calls
 * the record handler synchronously, awaiting only when it returns a promise.
 */
import { isAscii } from 'node:buffer';
import { readSync, type ReadStream, type Stats } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { InputFormat } from '../api/types.ts';
import { ErrorCode, TsmrError, isTsmrError } from '../errors.ts';
import { readVarint } from '../shuffle/byte-writer.ts';
import { closeQuietly } from '../shuffle/file-io.ts';
import { INCOMPLETE, MAX_VARINT_BYTES } from '../shuffle/record-format.ts';
import { decodeValue } from '../shuffle/value-codec.ts';
import { checkPart, endedEarly, openError, openPart, statOf } from './input-change.ts';
import { ioError } from './io-error.ts';
import type { Split, SplitPart } from './splits.ts';
import { parseSpoolHeader } from './spool.ts';
import { hasRecordsMagic, type KeyValueFrame, readKeyValue, TSMR_RECORDS_MAGIC } from './tsmr-records.ts';

/** An input format with its defaults filled in. `'records'` reads spooled in-memory input. */
export type NormalizedInputFormat =
  | { type: 'text'; encoding: 'utf8' | 'latin1' | 'buffer'; blocks?: true }
  | { type: 'jsonl' }
  | { type: 'fixed'; recordLength: number }
  | { type: 'records' }
  | { type: 'tsmr' };

/** Called once per record; a returned promise is awaited before the next record. */
export type RecordHandler = (key: unknown, value: unknown) => void | Promise<void>;

/** Observers of a split read. */
export interface ReadHooks {
  /** Called with a part's file path before the part's first record (for `'records'`: the spool file). */
  onFile?(path: string): void;
  /** Called with the cumulative bytes of the split read so far, at most once per chunk read. */
  onProgress?(bytesRead: number): void;
  /** Records to leave out (skip mode, `--skip-bad-records`). */
  skip?: RecordSkips;
}

/**
 * Records a split read leaves out: they are neither parsed (JSONL) nor passed
 * to `onRecord`, nor counted in {@link ReadResult.records}, but handed to
 * `skipped` (Hadoop's `SkipBadRecords`, Google MapReduce §3.7).
 */
export interface RecordSkips {
  /**
   * Offsets of the records to leave out in the file `path`, as the record
   * reader puts them in an error's `details.offset` (text, JSONL: the line's
   * byte offset; in-memory input: the item's offset in its spool file).
   */
  offsetsIn(path: string): ReadonlySet<number> | undefined;
  /**
   * Called for each record left out: the line as a string (decoded as the
   * input format decodes it; `'buffer'` and `'latin1'` as latin1, JSONL as
   * UTF-8, unparsed), or the in-memory item and its index.
   */
  skipped(path: string, offset: number, record: unknown, index?: number): void;
}

/** Tuning of a split read. */
export interface ReadOptions {
  /** Bytes per read (default 1 MiB). Small values exercise chunk boundaries in tests. */
  chunkSize?: number;
}

/** What a split read produced. */
export interface ReadResult {
  /** Records passed to the handler. */
  records: number;
  /** Bytes of the split's ranges consumed (compressed bytes for `.gz`): `split.length`, as a read of a changed file fails. */
  bytes: number;
}

const DEFAULT_CHUNK = 1 << 20;
const MIN_CHUNK = 8 * 1024;

const TEXT_UTF8 = 0;
const TEXT_LATIN1 = 1;
const TEXT_BUFFER = 2;
const JSONL = 3;
/** `'buffer'` with `blocks: true`: one record per block of whole lines. */
const TEXT_BLOCKS = 4;
type LineMode =
  typeof TEXT_UTF8 | typeof TEXT_LATIN1 | typeof TEXT_BUFFER | typeof JSONL | typeof TEXT_BLOCKS;

/** `Buffer`'s own decoders, which `toString(encoding, start, end)` calls after checking its arguments. */
interface FastSlices {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}

const FORMAT_HELP =
  "inputFormat must be 'text', 'jsonl', 'tsmr', { type: 'text', encoding?: 'utf8' | 'latin1' | 'buffer' }, " +
  "{ type: 'text', encoding: 'buffer', blocks: true }, { type: 'jsonl' }, { type: 'tsmr' } " +
  'or { fixed: <record length in bytes> }';

/** Longest record of the fixed-length format (bytes): one record must fit in a read buffer. */
export const MAX_FIXED_RECORD_LENGTH = 64 * 1024 * 1024;

/**
 * Fills in the defaults of an input format: `undefined` and `'text'` are
 * `{ type: 'text', encoding: 'utf8' }`, `'jsonl'` is `{ type: 'jsonl' }`,
 * `'tsmr'` is `{ type: 'tsmr' }`, `{ fixed: n }` is `{ type: 'fixed', recordLength: n }`.
 * A normalized format (including the internal `{ type: 'records' }`) is
 * returned as an equal value.
 * @throws TsmrError `TSMR_BAD_JOB` for anything else (unknown type, encoding or
 *   property; a record length that is not an integer from 1 to
 *   {@link MAX_FIXED_RECORD_LENGTH}).
 */
export function normalizeInputFormat(
  f: InputFormat | NormalizedInputFormat | undefined,
): NormalizedInputFormat {
  if (f === undefined || f === 'text') return { type: 'text', encoding: 'utf8' };
  if (f === 'jsonl' || f === 'tsmr') return { type: f };
  if (typeof f === 'object' && f !== null) {
    const keys = Object.keys(f);
    if ('fixed' in f) {
      if (keys.length === 1) return { type: 'fixed', recordLength: recordLength(f.fixed) };
    } else if (f.type === 'fixed') {
      if (keys.length === 2) return { type: 'fixed', recordLength: recordLength(f.recordLength) };
    } else if (f.type === 'jsonl' || f.type === 'records' || f.type === 'tsmr') {
      if (keys.length === 1) return { type: f.type };
    } else if (f.type === 'text') {
      const encoding = (f as { encoding?: unknown }).encoding ?? 'utf8';
      const blocks = (f as { blocks?: unknown }).blocks ?? false;
      const known = keys.every((k) => k === 'type' || k === 'encoding' || k === 'blocks');
      if (known && blocks === true && encoding === 'buffer') return { type: 'text', encoding, blocks };
      if (
        known &&
        blocks === false &&
        (encoding === 'utf8' || encoding === 'latin1' || encoding === 'buffer')
      ) {
        return { type: 'text', encoding };
      }
    }
  }
  throw new TsmrError(ErrorCode.BAD_JOB, `${FORMAT_HELP}; got ${describe(f)}`);
}

function recordLength(n: unknown): number {
  if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 1 && n <= MAX_FIXED_RECORD_LENGTH) return n;
  throw new TsmrError(
    ErrorCode.BAD_JOB,
    `inputFormat { fixed: n } needs the record length n in bytes, an integer from 1 to ${MAX_FIXED_RECORD_LENGTH}; got ${describe(n)}`,
  );
}

function describe(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * Reads every record of a split and passes it to `onRecord`.
 *
 * Text (`{ type: 'text' }`): one record per line. The key is the byte offset of
 * the line's first byte in its file (in decompressed bytes for `.gz`); the
 * value is the line without its `\n` and without a `\r` just before it, as a
 * string (`'utf8'`: invalid bytes become U+FFFD; a UTF-8 byte order mark at the
 * start of a file is dropped, as Hadoop's `LineRecordReader` does), a latin1
 * string (one character per byte), or a `Buffer` (`'buffer'`; it stays valid
 * after `onRecord` returns). A last line without `\n` is a record (a `\r`
 * ending it is kept); there is no record after a final `\n`.
 *
 * A line belongs to the split in which it starts (Hadoop's `LineRecordReader`
 * rule): a part with `start > 0` skips to the first line start at or after
 * `start` (offset 0 or just after a `\n`), and reads every line that starts
 * before `end`, reading past `end` to finish the last one. Together, the splits
 * of a file yield each of its lines exactly once.
 *
 * Blocks of lines (`{ type: 'text', encoding: 'buffer', blocks: true }`): the
 * same lines, whole, several to a record: each record is a `Buffer` of
 * consecutive lines as they are in the file, each with its `\n` (and any
 * `\r`), but for a last line without one; key = the byte offset of its first
 * line. A block holds the whole lines of one read (about `chunkSize` bytes,
 * or one longer line), so the map gets a few records per MiB instead of one
 * per line: for maps that scan bytes themselves (`examples/wordcount.ts`).
 * Which lines form a block depends on the read size; a skipped bad record
 * (`hooks.skip`) is a whole block.
 *
 * JSONL (`{ type: 'jsonl' }`): the same lines, each parsed with `JSON.parse`;
 * lines that are empty or only JSON whitespace are skipped; key = byte offset.
 *
 * Fixed-length records (`{ type: 'fixed', recordLength: n }`, Hadoop's
 * `FixedLengthInputFormat`): every `n` bytes of a file are one record, with no
 * separator; key = the record's byte offset in its file (decompressed bytes
 * for `.gz`), value = a `Buffer` of its `n` bytes (it stays valid after
 * `onRecord` returns). A record belongs to the split in which it starts: a
 * part reads the records whose offsets, multiples of `n`, lie in
 * `[start, end)`, reading past `end` to finish the last one.
 *
 * Records (`{ type: 'records' }`): the items of spool files written by
 * `spoolRecords`; key = the item's global index, value = the decoded item.
 *
 * tsmr records (`{ type: 'tsmr' }`, `tsmr-records.ts`): the key and value of
 * each record, decoded as the job that wrote the file emitted them. Such a
 * file is not splittable: its part is the whole file. A file without the
 * format's header is `TSMR_CORRUPT_DATA`.
 *
 * `.gz` parts (`compressed: true`) are decompressed as a stream (all gzip
 * members); every line of the file belongs to the part. A 0-byte `.gz` file
 * yields no records.
 *
 * @param onRecord called synchronously for each record; a returned thenable is
 *   awaited before the next record.
 * @param hooks.onFile called with each part's path before its first record.
 * @param hooks.onProgress called with the cumulative bytes of the split read so
 *   far (bytes of the parts' ranges, compressed bytes for `.gz`), at most once
 *   per chunk.
 * @param hooks.skip records to leave out (not parsed, not passed to `onRecord`,
 *   not counted), each handed to `hooks.skip.skipped` instead.
 * @param options.chunkSize bytes per read (default 1 MiB; tests use small ones).
 * @returns the number of records and the bytes of the split consumed.
 * @throws the `TsmrError` that `onRecord` threw, with `details.file` and
 *   `details.offset` added if absent; any other error of `onRecord` wrapped in
 *   `TsmrError` `TSMR_USER_CODE` (details `{ file, offset }`, original as
 *   `cause`); `TSMR_BAD_RECORD` (details `{ file, offset, failedOnRecord }`) for invalid JSON;
 *   `TSMR_CORRUPT_DATA` for a corrupt `.gz` or spool file (not retriable);
 *   `TSMR_IO` when a file cannot be opened (not retriable when it is missing,
 *   a directory or not permitted) or read; `TSMR_INPUT_CHANGED` when a part's
 *   file no longer has the size and modification time it was planned with,
 *   when it is opened or once it was read, or ends before the part's range
 *   (that error also replaces any other one raised while reading a file that
 *   changed). All name the file.
 */
export async function readSplit(
  split: Split,
  format: NormalizedInputFormat,
  onRecord: RecordHandler,
  hooks: ReadHooks = {},
  options: ReadOptions = {},
): Promise<ReadResult> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 16) {
    throw new TsmrError(ErrorCode.INTERNAL, `chunkSize must be an integer >= 16, got ${chunkSize}`);
  }
  const reader = new SplitReader(onRecord, hooks, chunkSize);
  for (const part of split.parts) {
    hooks.onFile?.(part.path);
    if (format.type === 'records') await reader.readFramedFile(part, spoolFraming());
    else if (format.type === 'tsmr') await reader.readFramedFile(part, TSMR_FRAMING);
    else if (format.type === 'fixed') await reader.readFixed(part, format.recordLength);
    else await reader.readLines(part, lineMode(format));
  }
  return { records: reader.records, bytes: reader.doneBytes };
}

function lineMode(format: NormalizedInputFormat): LineMode {
  if (format.type === 'jsonl') return JSONL;
  if (format.type === 'text') {
    if (format.encoding === 'utf8') return TEXT_UTF8;
    if (format.encoding === 'latin1') return TEXT_LATIN1;
    if (format.encoding === 'buffer') return format.blocks === true ? TEXT_BLOCKS : TEXT_BUFFER;
  }
  throw new TsmrError(ErrorCode.INTERNAL, `not a normalized input format: ${describe(format)}`);
}

/**
 * A stream of bytes from one part. Its file is checked against the plan
 * (`input-change.ts`) when it is opened, by {@link ByteSource.check} when the
 * part was read, and a file that ends before the part's range does is an
 * input change too.
 */
interface ByteSource {
  /** Reads up to `length` bytes into `buf` at `offset`; 0 at the end of the data. */
  read(buf: Buffer, offset: number, length: number): Promise<number>;
  /** Bytes of the part's range consumed so far. */
  progress(): number;
  /**
   * Checks that the file is still the planned one (opening it if no read did).
   * @throws TsmrError `TSMR_INPUT_CHANGED`, or the errors of opening it.
   */
  check(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Reads a file from `position` on, with synchronous positional reads: tasks run
 * in worker threads of their own, where a blocking read stalls nobody, and
 * for many small files it saves three thread-pool round trips per file.
 */
class FileSource implements ByteSource {
  private readonly part: SplitPart;
  private fd: number | undefined;
  private position: number;

  /** Reads `part`'s file from `position`; progress counts the bytes of the part's range passed. */
  constructor(part: SplitPart, position: number) {
    this.part = part;
    this.position = position;
  }

  async read(buf: Buffer, offset: number, length: number): Promise<number> {
    const fd = (this.fd ??= openPart(this.part));
    let bytesRead: number;
    try {
      bytesRead = readSync(fd, buf, offset, length, this.position);
    } catch (cause) {
      throw ioError(`cannot read the input file ${this.part.path}`, cause, { file: this.part.path });
    }
    if (bytesRead === 0 && this.position < this.part.end) throw endedEarly(this.part, this.position);
    this.position += bytesRead;
    return bytesRead;
  }

  progress(): number {
    const { start, end } = this.part;
    return Math.max(0, Math.min(this.position, end) - start);
  }

  async check(): Promise<void> {
    const fd = (this.fd ??= openPart(this.part));
    checkPart(this.part, statOf(this.part, fd));
  }

  async close(): Promise<void> {
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) closeQuietly(fd); // nothing was written: a failed close loses nothing
  }
}

/**
 * Decompresses a gzip file (all members) as a stream. Bytes after the last
 * gzip member that are not gzip data are ignored (as `gunzip` does); once
 * the data ended and the file checked unchanged, the part counts as read whole.
 */
class GzipSource implements ByteSource {
  private readonly part: SplitPart;
  private readonly chunkSize: number;
  private handle: FileHandle | undefined;
  private file: ReadStream | undefined;
  private gunzip: ReturnType<typeof createGunzip> | undefined;
  private chunks: AsyncIterator<Buffer> | undefined;
  private pending: Buffer | undefined;
  private pendingPos = 0;
  private ended = false;

  constructor(part: SplitPart, chunkSize: number) {
    this.part = part;
    this.chunkSize = chunkSize;
  }

  /** Opens and checks the file; a `FileHandle`, whose close waits for the stream's reads under way. */
  private async open(): Promise<FileHandle> {
    if (this.handle !== undefined) return this.handle;
    const { path } = this.part;
    try {
      this.handle = await open(path, 'r');
    } catch (cause) {
      throw openError(path, cause);
    }
    checkPart(this.part, await this.stat(this.handle));
    return this.handle;
  }

  private async stat(handle: FileHandle): Promise<Stats> {
    try {
      return await handle.stat();
    } catch (cause) {
      throw ioError(`cannot stat the input file ${this.part.path}`, cause, { file: this.part.path });
    }
  }

  private async start(): Promise<AsyncIterator<Buffer>> {
    const handle = await this.open();
    const chunkSize = this.chunkSize;
    this.file = handle.createReadStream({ autoClose: false, highWaterMark: Math.max(64 * 1024, chunkSize) });
    this.gunzip = createGunzip({ chunkSize: Math.max(64 * 1024, Math.min(chunkSize, 256 * 1024)) });
    // pipeline forwards a read error of the file to the gunzip stream.
    pipeline(this.file, this.gunzip, () => {});
    return (this.chunks = this.gunzip[Symbol.asyncIterator]());
  }

  async read(buf: Buffer, offset: number, length: number): Promise<number> {
    // An empty .gz file (as left by some log rotations) holds no lines rather than a truncated stream.
    if (this.part.size === 0) {
      await this.open();
      return 0;
    }
    while (this.pending === undefined || this.pendingPos === this.pending.length) {
      const chunks = this.chunks ?? (await this.start());
      let next: IteratorResult<Buffer>;
      try {
        next = await chunks.next();
      } catch (cause) {
        const { path } = this.part;
        const code = (cause as NodeJS.ErrnoException).code;
        if (typeof code === 'string' && code.startsWith('Z_')) {
          throw new TsmrError(
            ErrorCode.CORRUPT_DATA,
            `the input file ${path} is not valid gzip data: ${(cause as Error).message}; ` +
              'a retry reads the same bytes: recompress it or leave it out of the input',
            { cause, details: { file: path }, retriable: false },
          );
        }
        throw ioError(`cannot read the input file ${path}`, cause, { file: path });
      }
      if (next.done) {
        this.ended = true;
        return 0;
      }
      this.pending = next.value;
      this.pendingPos = 0;
    }
    const n = Math.min(length, this.pending.length - this.pendingPos);
    this.pending.copy(buf, offset, this.pendingPos, this.pendingPos + n);
    this.pendingPos += n;
    return n;
  }

  progress(): number {
    return this.ended ? this.part.size : (this.file?.bytesRead ?? 0);
  }

  async check(): Promise<void> {
    checkPart(this.part, await this.stat(await this.open()));
  }

  async close(): Promise<void> {
    this.gunzip?.destroy();
    this.file?.destroy();
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => {}); // nothing was written: a failed close loses nothing
  }
}

/** Reading state of one `readSplit` call. */
class SplitReader {
  records = 0;
  /** Bytes of the parts already read. */
  doneBytes = 0;
  private readonly onRecord: RecordHandler;
  private readonly onProgress: ((bytesRead: number) => void) | undefined;
  private readonly skip: RecordSkips | undefined;
  private readonly chunkSize: number;
  private lastProgress = -1;
  /** Chunk buffer reused across reads and parts when no record keeps a view of it. */
  private shared: Buffer | undefined;

  constructor(onRecord: RecordHandler, hooks: ReadHooks, chunkSize: number) {
    this.onRecord = onRecord;
    this.onProgress = hooks.onProgress;
    this.skip = hooks.skip;
    this.chunkSize = chunkSize;
  }

  private progress(src: ByteSource): void {
    if (this.onProgress === undefined) return;
    const bytes = this.doneBytes + src.progress();
    if (bytes !== this.lastProgress) {
      this.lastProgress = bytes;
      this.onProgress(bytes);
    }
  }

  private firstChunk(part: SplitPart, fresh: boolean): Buffer {
    // Small files get small chunks: a split may pack thousands of them.
    const hint = part.compressed ? this.chunkSize : part.end - part.start + 1;
    const size = Math.min(this.chunkSize, Math.max(MIN_CHUNK, hint));
    if (fresh) return Buffer.allocUnsafe(size);
    if (this.shared === undefined || this.shared.length < size) this.shared = Buffer.allocUnsafe(size);
    return this.shared;
  }

  /** Reads the lines of a text or JSONL part. */
  async readLines(part: SplitPart, mode: LineMode): Promise<void> {
    const { path, compressed } = part;
    const onRecord = this.onRecord;
    const skipFirst = !compressed && part.start > 0;
    const end = compressed ? Infinity : part.end;
    /** File offset of `buf[0]`. */
    let base = compressed ? 0 : skipFirst ? part.start - 1 : part.start;
    const src: ByteSource = compressed ? new GzipSource(part, this.chunkSize) : new FileSource(part, base);
    // 'buffer' values are views of the chunk: a chunk that was handed out is never reused.
    const fresh = mode === TEXT_BUFFER || mode === TEXT_BLOCKS;
    let handedOut = false;
    const stripBom = mode === TEXT_UTF8 || mode === JSONL;
    let buf = this.firstChunk(part, fresh);
    let len = 0; // valid bytes in buf
    let ls = 0; // index in buf of the current line's start
    let scan = 0; // index from which to look for the next '\n'
    let skipping = skipFirst;
    let records = 0;
    /** Offsets of bad records to leave out of this file (skip mode), if any. */
    const bad = this.skip?.offsetsIn(path);
    try {
      read: for (;;) {
        if (!skipping && base + ls >= end) break;
        // Move the unfinished line to the front (of a new chunk if needed) and read more.
        const tail = len - ls;
        let next = buf;
        if (tail * 2 > buf.length) next = Buffer.allocUnsafe(buf.length * 2);
        else if (fresh && handedOut) next = Buffer.allocUnsafe(buf.length);
        if (next !== buf) {
          buf.copy(next, 0, ls, len);
          handedOut = false;
          if (!fresh && buf === this.shared) this.shared = next;
        } else if (ls > 0 && tail > 0) {
          buf.copyWithin(0, ls, len);
        }
        buf = next;
        base += ls;
        scan -= ls;
        len = tail;
        ls = 0;
        const n = await src.read(buf, len, buf.length - len);
        this.progress(src);
        if (n === 0) {
          // End of file: a last line without '\n'.
          if (!skipping && len > 0) {
            if (fresh) handedOut = true;
            if (await this.emitLine(buf, 0, len, len, base, path, mode, stripBom, bad)) records++;
          }
          break;
        }
        len += n;
        const view = len === buf.length ? buf : buf.subarray(0, len);
        if (skipping) {
          const nl = view.indexOf(10, scan);
          if (nl === -1) {
            ls = scan = len;
            continue;
          }
          ls = scan = nl + 1;
          skipping = false;
        }
        if (mode === TEXT_BLOCKS) {
          // One record: the whole lines from ls on, up to the last one starting before `end`.
          if (base + ls >= end) break;
          const limit = end - base;
          const nl = limit <= len ? view.indexOf(10, Math.max(scan, limit - 1)) : view.lastIndexOf(10);
          if (nl < ls) {
            scan = len;
            continue;
          }
          const key = base + ls;
          handedOut = true;
          if (bad !== undefined && bad.has(key)) {
            this.skipLine(view, ls, nl + 1, key, path, mode);
          } else {
            records++;
            try {
              const r = onRecord(key, view.subarray(ls, nl + 1));
              if (r !== undefined && typeof (r as PromiseLike<void>).then === 'function') await r;
            } catch (error) {
              throw recordError(error, path, key, `the record at byte ${key} of ${path}`);
            }
          }
          ls = scan = nl + 1;
          continue;
        }
        const slices = view as unknown as FastSlices;
        // For ASCII, latin1 decoding gives the same string, faster.
        const ascii = mode === TEXT_UTF8 && isAscii(view);
        for (;;) {
          const key = base + ls;
          if (key >= end) break read;
          const nl = view.indexOf(10, scan);
          if (nl === -1) {
            scan = len;
            break;
          }
          let e = nl;
          if (e > ls && view[e - 1] === 13) e--;
          if (bad !== undefined && bad.has(key)) {
            this.skipLine(view, ls, e, key, path, mode);
            ls = scan = nl + 1;
            continue;
          }
          let value: unknown;
          if (mode === TEXT_UTF8) {
            if (ascii) value = slices.latin1Slice(ls, e);
            else value = key === 0 ? slices.utf8Slice(bomEnd(view, ls, e), e) : slices.utf8Slice(ls, e);
          } else if (mode === TEXT_LATIN1) {
            value = slices.latin1Slice(ls, e);
          } else if (mode === TEXT_BUFFER) {
            value = view.subarray(ls, e);
            handedOut = true;
          } else {
            value = parseJsonLine(view, key === 0 ? bomEnd(view, ls, e) : ls, e, key, path);
            if (value === BLANK) {
              ls = scan = nl + 1;
              continue;
            }
          }
          records++;
          try {
            const r = onRecord(key, value);
            if (r !== undefined && typeof (r as PromiseLike<void>).then === 'function') await r;
          } catch (error) {
            throw recordError(error, path, key, `the record at byte ${key} of ${path}`);
          }
          ls = scan = nl + 1;
        }
      }
      await src.check();
    } catch (error) {
      throw await changedOr(src, error);
    } finally {
      this.records += records;
      await src.close();
    }
    this.doneBytes += src.progress();
  }

  /** Hands the line `view[s, e)` at file offset `key` to the skip hook instead of `onRecord`. */
  private skipLine(view: Buffer, s: number, e: number, key: number, path: string, mode: LineMode): void {
    const text =
      mode === TEXT_LATIN1 || mode === TEXT_BUFFER || mode === TEXT_BLOCKS
        ? view.toString('latin1', s, e)
        : view.toString('utf8', key === 0 ? bomEnd(view, s, e) : s, e);
    this.skip?.skipped(path, key, text);
  }

  /**
   * Emits the line `buf[s, e)` at file offset `base + s` (or skips it, when its
   * offset is in `bad`); returns true if a record was emitted.
   */
  private async emitLine(
    buf: Buffer,
    s: number,
    e: number,
    len: number,
    base: number,
    path: string,
    mode: LineMode,
    stripBom: boolean,
    bad: ReadonlySet<number> | undefined,
  ): Promise<boolean> {
    const key = base + s;
    const view = buf.subarray(0, len);
    if (bad !== undefined && bad.has(key)) {
      this.skipLine(view, s, e, key, path, mode);
      return false;
    }
    const vs = key === 0 && stripBom ? bomEnd(view, s, e) : s;
    let value: unknown;
    if (mode === TEXT_UTF8) value = view.toString('utf8', vs, e);
    else if (mode === TEXT_LATIN1) value = view.toString('latin1', s, e);
    else if (mode === TEXT_BUFFER || mode === TEXT_BLOCKS) value = view.subarray(s, e);
    else {
      value = parseJsonLine(view, vs, e, key, path);
      if (value === BLANK) return false;
    }
    try {
      await this.onRecord(key, value);
    } catch (error) {
      throw recordError(error, path, key, `the record at byte ${key} of ${path}`);
    }
    return true;
  }

  /** Reads the fixed-length records of a part (see {@link readSplit}). */
  async readFixed(part: SplitPart, recordLength: number): Promise<void> {
    const { path, compressed } = part;
    const onRecord = this.onRecord;
    /** Offsets of the records of this part lie in [first, end). */
    const first = compressed ? 0 : Math.ceil(part.start / recordLength) * recordLength;
    const end = compressed ? Infinity : part.end;
    const src: ByteSource = compressed ? new GzipSource(part, this.chunkSize) : new FileSource(part, first);
    // Whole records per chunk; values are views of it, so a chunk is never reused.
    const hint = compressed ? this.chunkSize : part.end - first + recordLength;
    const size = Math.ceil(Math.min(this.chunkSize, Math.max(MIN_CHUNK, hint)) / recordLength) * recordLength;
    let buf = Buffer.allocUnsafe(size);
    let base = first; // file offset of buf[0]
    let len = 0;
    let records = 0;
    try {
      while (base < end) {
        const n = await src.read(buf, len, buf.length - len);
        this.progress(src);
        if (n === 0) {
          if (len > 0) throw cutRecord(path, base, len, recordLength);
          break;
        }
        len += n;
        let p = 0;
        for (; p + recordLength <= len && base + p < end; p += recordLength) {
          const key = base + p;
          records++;
          try {
            const r = onRecord(key, buf.subarray(p, p + recordLength));
            if (r !== undefined && typeof (r as PromiseLike<void>).then === 'function') await r;
          } catch (error) {
            throw recordError(error, path, key, `the record at byte ${key} of ${path}`);
          }
        }
        if (base + p >= end) break;
        const next = Buffer.allocUnsafe(size);
        buf.copy(next, 0, p, len);
        buf = next;
        base += p;
        len -= p;
      }
      await src.check();
    } catch (error) {
      throw await changedOr(src, error);
    } finally {
      this.records += records;
      await src.close();
    }
    this.doneBytes += src.progress();
  }

  /**
   * Reads the records of a framed file, a whole part: a spool file
   * (`spool.ts`, key = the item's global index) or a tsmr records file
   * (`tsmr-records.ts`, key and value as written).
   */
  async readFramedFile(part: SplitPart, framing: Framing): Promise<void> {
    const { path } = part;
    const onRecord = this.onRecord;
    const src = new FileSource(part, 0);
    // Values decoded by V8 may be views of the chunk (typed arrays): never reuse one.
    let buf = Buffer.allocUnsafe(Math.min(this.chunkSize, Math.max(MIN_CHUNK, part.end + 1)));
    let len = 0;
    let p = 0; // index of the next frame in buf
    let base = 0; // file offset of buf[0]
    let started = false; // the header was read
    let eof = false;
    let records = 0;
    const frame: KeyValueFrame = { keyStart: 0, keyEnd: 0, valueEnd: 0, key: undefined, value: undefined };
    const bad = this.skip?.offsetsIn(path);
    const corrupt = (what: string, offset: number, cause?: unknown): TsmrError =>
      new TsmrError(
        ErrorCode.CORRUPT_DATA,
        `the ${framing.name} ${path} is corrupt: ${what} at byte ${offset}`,
        {
          cause,
          details: { file: path, offset },
          retriable: false, // a retry reads the same bytes
        },
      );
    try {
      while (!eof) {
        const tail = len - p;
        const next = Buffer.allocUnsafe(tail * 2 > buf.length ? buf.length * 2 : buf.length);
        buf.copy(next, 0, p, len);
        buf = next;
        base += p;
        len = tail;
        p = 0;
        const n = await src.read(buf, len, buf.length - len);
        this.progress(src);
        if (n === 0) eof = true;
        len += n;
        if (!started) {
          if (len < 32 && !eof) continue;
          const headerLength = framing.header(buf, len);
          if (headerLength === undefined) throw corrupt(`no ${framing.name} header`, 0);
          started = true;
          p = headerLength;
        }
        while (p < len) {
          if (len - p < 2 * MAX_VARINT_BYTES && !eof) break; // a varint may be cut
          const offset = base + p;
          let after: number;
          try {
            after = framing.frame(buf, p, len, frame);
          } catch (error) {
            if (isTsmrError(error)) throw recordError(error, path, offset, '');
            throw corrupt('undecodable record', offset, error);
          }
          if (after === INCOMPLETE) {
            if (eof) throw corrupt('truncated record', offset);
            break;
          }
          p = after;
          const { key, value } = frame;
          if (bad !== undefined && bad.has(offset)) {
            framing.skipped(this.skip!, path, offset, key, value);
            continue;
          }
          records++;
          try {
            const r = onRecord(key, value);
            if (r !== undefined && typeof (r as PromiseLike<void>).then === 'function') await r;
          } catch (error) {
            throw framing.recordError(error, path, offset, key);
          }
        }
      }
      await src.check();
    } catch (error) {
      throw await changedOr(src, error);
    } finally {
      this.records += records;
      await src.close();
    }
    this.doneBytes += src.progress();
  }
}

/** How {@link SplitReader.readFramedFile} reads one kind of framed file. */
interface Framing {
  /** What the file is called in errors. */
  readonly name: string;
  /** The header's length in `buf[0, length)`, or undefined when it holds no complete, valid header. */
  header(buf: Buffer, length: number): number | undefined;
  /**
   * Decodes the frame at `buf[pos]` into `out.key` and `out.value`.
   * @returns the position after it, or `INCOMPLETE` when `buf[pos, end)` holds part of it.
   */
  frame(buf: Buffer, pos: number, end: number, out: KeyValueFrame): number;
  /** Hands a record left out (skip mode) to `skips`. */
  skipped(skips: RecordSkips, path: string, offset: number, key: unknown, value: unknown): void;
  /** The error to throw for `error`, raised by `onRecord` on the record at `offset`. */
  recordError(error: unknown, path: string, offset: number, key: unknown): TsmrError;
}

/** Spool files of in-memory input (`spool.ts`): key = the item's global index. */
function spoolFraming(): Framing {
  let index = 0;
  const out = [0];
  return {
    name: 'spool file',
    header(buf, length) {
      const header = parseSpoolHeader(buf, length);
      if (header !== undefined) index = header.firstIndex;
      return header?.headerLength;
    },
    frame(buf, pos, end, frame) {
      let size: number;
      try {
        size = readVarint(buf, pos, end, out);
      } catch {
        return INCOMPLETE;
      }
      const q = out[0];
      if (q + size > end) return INCOMPLETE;
      frame.value = decodeValue(buf, q, q + size);
      frame.key = index++;
      return q + size;
    },
    skipped: (skips, path, offset, key, value) => skips.skipped(path, offset, value, key as number),
    recordError: (error, path, offset, key) =>
      recordError(error, path, offset, `in-memory input item ${key as number}`, key as number),
  };
}

/** tsmr records files (`tsmr-records.ts`): key and value as a job wrote them. */
const TSMR_FRAMING: Framing = {
  name: 'tsmr records file',
  header: (buf, length) => (hasRecordsMagic(buf, length) ? TSMR_RECORDS_MAGIC.length : undefined),
  frame: readKeyValue,
  skipped: (skips, path, offset, key, value) => skips.skipped(path, offset, [key, value]),
  recordError: (error, path, offset) =>
    recordError(error, path, offset, `the record at byte ${offset} of ${path}`),
};

/**
 * What to throw for `error`, raised while a part was read: the part's
 * `TSMR_INPUT_CHANGED` error if its file changed (a likelier cause of a bad
 * record, a corrupt `.gz` or a map that choked on a cut line), else `error`.
 */
async function changedOr(src: ByteSource, error: unknown): Promise<unknown> {
  if (isTsmrError(error) && error.code === ErrorCode.INPUT_CHANGED) return error;
  try {
    await src.check();
  } catch (changed) {
    if (isTsmrError(changed) && changed.code === ErrorCode.INPUT_CHANGED) return changed;
  }
  return error;
}

/** The error for a fixed-length file that ends `bytes` bytes into a record at `offset`. */
function cutRecord(file: string, offset: number, bytes: number, recordLength: number): TsmrError {
  return new TsmrError(
    ErrorCode.BAD_RECORD,
    `the input file ${file} ends inside a record: the record at byte ${offset} has ${bytes} of its ${recordLength} bytes ` +
      `(inputFormat { fixed: ${recordLength} }); a file of fixed-length records must be a multiple of ${recordLength} bytes long: ` +
      'check the record length, or cut or pad the file',
    { details: { file, offset } },
  );
}

/** Index after a UTF-8 byte order mark at `buf[s]`, or `s`. */
function bomEnd(buf: Buffer, s: number, e: number): number {
  return e - s >= 3 && buf[s] === 0xef && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf ? s + 3 : s;
}

const BLANK = Symbol('blank line');

/** Parses a JSONL line; {@link BLANK} for a line of JSON whitespace only. */
function parseJsonLine(buf: Buffer, s: number, e: number, offset: number, file: string): unknown {
  let i = s;
  while (i < e) {
    const c = buf[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) break;
    i++;
  }
  if (i === e) return BLANK;
  const text = buf.toString('utf8', i, e);
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new TsmrError(
      ErrorCode.BAD_RECORD,
      `invalid JSON in the record at byte ${offset} of ${file}: ${(cause as Error).message}`,
      { cause, details: { file, offset, failedOnRecord: true } },
    );
  }
}

/**
 * The error to throw for a failure while handling a record: a `TsmrError` that
 * does not name a file yet (a bad key or value the map emitted…) gets the
 * record's `file`/`offset` details and its message names the record
 * (`map failed on the record at byte 1234 of /in/a.txt: unsupported key …`);
 * anything else becomes `TSMR_USER_CODE`.
 * @param what how the message names the record; '' to pass a TsmrError on unchanged but for its details.
 */
function recordError(error: unknown, file: string, offset: number, what: string, index?: number): TsmrError {
  if (isTsmrError(error)) {
    const d = error.details;
    if (d.file === undefined) {
      d.file = file;
      // Before anything read the stack, whose first line V8 then formats with this message.
      if (what !== '') error.message = `map failed on ${what}: ${error.message}`;
    }
    if (d.offset === undefined) d.offset = offset;
    if (index !== undefined && d.index === undefined) d.index = index;
    return error;
  }
  const message = error instanceof Error ? error.message : String(error);
  const details: Record<string, unknown> = { file, offset };
  if (index !== undefined) details.index = index;
  return new TsmrError(ErrorCode.USER_CODE, `map failed on ${what}: ${message}`, { cause: error, details });
}
