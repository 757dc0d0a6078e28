/**
 * Writes a run file: framed records (`record-format.ts`) in partition order,
 * one segment per partition, back to back. Spills, merge runs and the final
 * map output file are all run files. Per segment it records the offset,
 * length, record count and CRC-32 (`zlib.crc32`, computed incrementally as
 * the buffer is flushed) that go into the map output index.
 *
 * Writes are synchronous (`fs.writeSync`) through one buffer of
 * `bufferBytes`; a record larger than the buffer grows it for that record.
 */
import { crc32 } from 'node:zlib';
import { ErrorCode, TsmrError } from '../errors.ts';
import { ByteWriter } from './byte-writer.ts';
import { closeFile, closeQuietly, openForWrite, removeQuietly, writeFully } from './file-io.ts';
import { writeRecord } from './record-format.ts';
import type { RecordCursor } from './record-format.ts';

/** One segment of a run file, as stored in the map output index. Offsets and lengths are bytes. */
export interface SegmentInfo {
  /** Byte offset of the segment in its file. */
  offset: number;
  /** Bytes of the segment (0 for an empty partition). */
  length: number;
  /** Records in the segment. */
  records: number;
  /** `zlib.crc32` of the segment's bytes (0 when empty). */
  crc32: number;
}

/** Default write buffer: 1 MiB. */
export const DEFAULT_WRITE_BUFFER = 1 << 20;

export class RunWriter {
  readonly path: string;
  readonly numPartitions: number;
  private fd: number;
  private readonly w: ByteWriter;
  private readonly flushAt: number;
  private readonly segments: SegmentInfo[] = [];
  /** Partition of the open segment (-1 before the first record). */
  private partition = -1;
  /** Bytes already written to the file. */
  private flushed = 0;
  /** Start of the open segment's unflushed bytes in `w.buf`. */
  private segStart = 0;
  private segOffset = 0;
  private segRecords = 0;
  private segCrc = 0;
  private totalRecords = 0;
  private closed = false;

  /**
   * Creates (or truncates) `path`.
   * @param numPartitions segments in the file; partitions without records get empty segments.
   * @throws TsmrError `TSMR_IO` when the file cannot be created.
   */
  constructor(path: string, numPartitions: number, options: { bufferBytes?: number } = {}) {
    this.path = path;
    this.numPartitions = numPartitions;
    const size = options.bufferBytes ?? DEFAULT_WRITE_BUFFER;
    this.w = new ByteWriter(size + 64);
    this.flushAt = size;
    this.fd = openForWrite(path);
  }

  /** Records appended so far. */
  get records(): number {
    return this.totalRecords;
  }

  /** Bytes appended so far (written or buffered). */
  get bytes(): number {
    return this.flushed + this.w.pos;
  }

  /**
   * Appends a record to `partition`'s segment: key `keyBuf[keyStart, keyEnd)`,
   * value `valueBuf[valueStart, valueEnd)`, both already encoded.
   * @throws TsmrError `TSMR_INTERNAL` when `partition` is below the previous
   *   record's (records must come in partition order) or not in `[0, numPartitions)`;
   *   `TSMR_IO` on a write error (then call {@link abort}).
   */
  append(
    partition: number,
    keyBuf: Uint8Array,
    keyStart: number,
    keyEnd: number,
    valueBuf: Uint8Array,
    valueStart: number,
    valueEnd: number,
  ): void {
    if (partition !== this.partition) this.advance(partition, false);
    writeRecord(this.w, keyBuf, keyStart, keyEnd, valueBuf, valueStart, valueEnd);
    this.segRecords++;
    this.totalRecords++;
    if (this.w.pos >= this.flushAt) this.flush();
  }

  /** Appends every remaining record of `cursor` to `partition`'s segment (see {@link append}). */
  appendAll(partition: number, cursor: RecordCursor): void {
    while (cursor.next()) {
      this.append(
        partition,
        cursor.buf,
        cursor.keyStart,
        cursor.keyEnd,
        cursor.buf,
        cursor.valueStart,
        cursor.valueEnd,
      );
    }
  }

  /**
   * Writes what is buffered, closes the file and returns one {@link SegmentInfo}
   * per partition, in partition order.
   * @throws TsmrError `TSMR_IO` on a write error (the file is then deleted).
   */
  close(): SegmentInfo[] {
    if (this.closed) return this.segments;
    try {
      this.advance(this.numPartitions, true);
      this.flush();
      this.closed = true;
      closeFile(this.fd, this.path);
    } catch (error) {
      this.abort();
      throw error;
    }
    return this.segments;
  }

  /** Closes and deletes the file (after a failure). Never throws. */
  abort(): void {
    if (!this.closed) {
      this.closed = true;
      closeQuietly(this.fd);
    }
    removeQuietly(this.path);
  }

  /** Ends the open segment and any empty ones before `partition`. */
  private advance(partition: number, closing: boolean): void {
    if (this.closed) throw new TsmrError(ErrorCode.INTERNAL, `run file ${this.path} is already closed`);
    const limit = closing ? this.numPartitions : this.numPartitions - 1;
    if (!(partition > this.partition && partition <= limit && Number.isInteger(partition))) {
      throw new TsmrError(
        ErrorCode.INTERNAL,
        `record of partition ${partition} after partition ${this.partition} in ${this.path}`,
      );
    }
    const here = this.flushed + this.w.pos;
    if (this.partition >= 0) {
      this.segCrc = crc32(this.w.buf.subarray(this.segStart, this.w.pos), this.segCrc);
      this.segments.push({
        offset: this.segOffset,
        length: here - this.segOffset,
        records: this.segRecords,
        crc32: this.segCrc,
      });
    }
    for (let p = this.partition + 1; p < partition; p++) {
      this.segments.push({ offset: here, length: 0, records: 0, crc32: 0 });
    }
    this.partition = partition;
    this.segOffset = here;
    this.segStart = this.w.pos;
    this.segRecords = 0;
    this.segCrc = 0;
  }

  private flush(): void {
    const w = this.w;
    if (w.pos === 0) return;
    if (this.partition < this.numPartitions) {
      this.segCrc = crc32(w.buf.subarray(this.segStart, w.pos), this.segCrc);
    }
    writeFully(this.fd, w.buf, 0, w.pos, this.path);
    this.flushed += w.pos;
    w.pos = 0;
    this.segStart = 0;
  }
}
