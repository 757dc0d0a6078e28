/**
 * Reads the framed records of one segment of a run or map output file with
 * synchronous chunked reads, verifying its CRC-32 and record count on the way
 * (Hadoop's `IFile.Reader` with `IFileInputStream` checksums plays this part).
 *
 * The CRC-32 is computed incrementally over each chunk as it is read
 * (`zlib.crc32(chunk, previous)`) and checked as soon as the segment's last
 * byte has been read, before the records of that last chunk are returned. A
 * small segment (one chunk) is therefore verified before its first record is
 * seen; records of earlier chunks of a large segment are returned before the
 * check, as in any streaming checksum.
 */
import { openSync, readSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { ErrorCode, TsmrError, isTsmrError } from '../errors.ts';
import { closeQuietly, ioError } from './file-io.ts';
import { INCOMPLETE, MAX_VARINT_BYTES, parseFrame } from './record-format.ts';
import type { FrameBounds, RecordCursor } from './record-format.ts';

/** Where a segment is and what it must contain. Offsets and lengths are bytes. */
export interface SegmentRef {
  /** File holding the segment. */
  path: string;
  /** Byte offset of the segment in the file. */
  offset: number;
  /** Bytes of the segment. */
  length: number;
  /** Records the segment must contain. */
  records: number;
  /** `zlib.crc32` of the segment's bytes. */
  crc32: number;
  /**
   * Who wrote it, for error messages: a reduce's segments name the map
   * attempt (`m-00003_1`), which its fetch stage reports as a fetch failure;
   * spill runs name the spill.
   */
  source: string;
}

/** A {@link RecordCursor} over one segment; `close()` releases its file descriptor (idempotent). */
export interface SegmentCursor extends RecordCursor {
  readonly ref: SegmentRef;
  /** Records returned so far. */
  readonly records: number;
  close(): void;
}

/** Default read chunk: 256 KiB. */
export const DEFAULT_READ_BUFFER = 256 * 1024;

/**
 * Opens a cursor over the records of `ref`. The file is opened on the first
 * `next()`. Memory: one buffer of `bufferBytes` (default 256 KiB), grown to
 * hold the largest record when a record is larger.
 *
 * `next()` throws TsmrError `TSMR_CORRUPT_DATA` with details
 * `{ file, source, segment: { offset, length }, reason }` when the segment
 * cannot be read as promised: missing or short file, bad framing, CRC-32
 * mismatch, wrong record count. A reduce attempt reports the map attempt named
 * by `source` as a fetch failure (`src/task/fetch-stage.ts`), and the scheduler
 * re-executes that map when its output is lost. Other I/O failures (too many open
 * files, permissions) are `TSMR_IO`.
 */
export function openSegment(ref: SegmentRef, options: { bufferBytes?: number } = {}): SegmentCursor {
  return new SegmentReader(ref, options.bufferBytes ?? DEFAULT_READ_BUFFER);
}

class SegmentReader implements SegmentCursor {
  readonly ref: SegmentRef;
  buf: Buffer;
  keyStart = 0;
  keyEnd = 0;
  valueStart = 0;
  valueEnd = 0;
  records = 0;
  private fd = -1;
  private readonly chunk: number;
  /** Unparsed bytes are `buf[pos, end)`. */
  private pos = 0;
  private end = 0;
  /** File position of the next read. */
  private filePos: number;
  /** Segment bytes not read yet. */
  private unread: number;
  private crc = 0;
  private done = false;
  private readonly bounds: FrameBounds = { keyStart: 0, keyEnd: 0, valueEnd: 0 };

  constructor(ref: SegmentRef, bufferBytes: number) {
    this.ref = ref;
    this.chunk = Math.max(64, bufferBytes);
    this.buf = Buffer.allocUnsafe(Math.min(this.chunk, Math.max(ref.length, 16)));
    this.filePos = ref.offset;
    this.unread = ref.length;
  }

  next(): boolean {
    if (this.done) return false;
    for (;;) {
      const after = parseFrame(this.buf, this.pos, this.end, this.bounds);
      if (after !== INCOMPLETE) {
        if (this.records === this.ref.records) {
          throw this.corrupt(`more records than the ${this.ref.records} its index promises`);
        }
        this.keyStart = this.bounds.keyStart;
        this.keyEnd = this.valueStart = this.bounds.keyEnd;
        this.valueEnd = after;
        this.pos = after;
        this.records++;
        return true;
      }
      if (this.unread === 0) {
        if (this.pos < this.end) throw this.corrupt('the last record is cut short');
        if (this.records !== this.ref.records) {
          throw this.corrupt(`${this.records} records where its index promises ${this.ref.records}`);
        }
        this.close();
        return false;
      }
      // Read more: the whole frame if its header is complete, else enough for a header.
      const frameEnd = this.bounds.valueEnd;
      const available = this.end - this.pos + this.unread;
      if (frameEnd >= 0 && frameEnd - this.pos > available) {
        throw this.corrupt('a record runs past the end of the segment');
      }
      this.fill(Math.min(frameEnd >= 0 ? frameEnd - this.pos : 2 * MAX_VARINT_BYTES, available));
    }
  }

  close(): void {
    this.done = true;
    if (this.fd >= 0) {
      closeQuietly(this.fd);
      this.fd = -1;
    }
  }

  /** Moves the unparsed bytes to the front and reads more, so that at least `need` bytes (or all the rest) are buffered. */
  private fill(need: number): void {
    if (this.fd < 0) this.open();
    const left = this.end - this.pos;
    if (need > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, 2 * this.buf.length));
      this.buf.copy(bigger, 0, this.pos, this.end);
      this.buf = bigger;
    } else if (left > 0 && this.pos > 0) {
      this.buf.copyWithin(0, this.pos, this.end);
    }
    this.pos = 0;
    this.end = left;
    const want = Math.min(this.unread, this.buf.length - left);
    let got = 0;
    try {
      while (got < want) {
        const n = readSync(this.fd, this.buf, left + got, want - got, this.filePos + got);
        if (n === 0) break;
        got += n;
      }
    } catch (cause) {
      this.close();
      throw this.readError(cause);
    }
    if (got < want) throw this.corrupt('the file is shorter than its index says');
    this.crc = crc32(this.buf.subarray(left, left + got), this.crc);
    this.end = left + got;
    this.filePos += got;
    this.unread -= got;
    if (this.unread === 0 && this.crc >>> 0 !== this.ref.crc32 >>> 0) {
      throw this.corrupt(`CRC-32 mismatch (computed ${this.crc >>> 0}, index says ${this.ref.crc32 >>> 0})`);
    }
  }

  private open(): void {
    try {
      this.fd = openSync(this.ref.path, 'r');
    } catch (cause) {
      throw this.readError(cause);
    }
  }

  private readError(cause: unknown): TsmrError {
    if (isTsmrError(cause)) return cause;
    const code = (cause as { code?: unknown } | null)?.code;
    if (code === 'ENOENT' || code === 'EIO' || code === 'EISDIR') {
      return this.corrupt(`cannot read it (${String(code)})`, cause);
    }
    return ioError('read', this.ref.path, cause);
  }

  private corrupt(reason: string, cause?: unknown): TsmrError {
    this.close();
    const { path, offset, length, source } = this.ref;
    return new TsmrError(
      ErrorCode.CORRUPT_DATA,
      `map output segment of ${source} in ${path} (offset ${offset}, ${length} bytes) is corrupt: ${reason}; its map task must run again`,
      { cause, details: { file: path, source, segment: { offset, length }, reason } },
    );
  }
}
