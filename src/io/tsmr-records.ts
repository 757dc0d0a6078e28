/**
 * tsmr's binary record file (`outputFormat: 'tsmr'`, `inputFormat: 'tsmr'`):
 * key-value records that keep their types, written by one job and read by
 * the next (the steps of a pipeline), as Hadoop's `SequenceFile` carries
 * `Writable`s between chained jobs.
 *
 * | bytes            | content                                                  |
 * | ---------------- | -------------------------------------------------------- |
 * | 8                | magic `TSMRKV` `0x00` and format version `0x01`          |
 * | then, per record | `varint(keyLength) varint(valueLength) keyBytes valueBytes` |
 *
 * The framing is the shuffle's (`src/shuffle/record-format.ts`, LEB128
 * varints); key and value are both encoded with the value codec
 * (`src/shuffle/value-codec.ts`: strings, numbers, bigints, Buffers and
 * Uint8Arrays on a tagged fast path, anything else structured-clone
 * serializable through `v8.serialize`), so an output key need not be a
 * {@link Key} (reduce may emit any value as its key) and decodes as what was
 * emitted: a tuple as an array, a Buffer as a Buffer, a number as a number.
 *
 * A file has no sync markers, so it is not splittable: each file is one
 * split, read whole (as a `.gz` file is). A pipeline step reads one split
 * per part file of the step before.
 */
import type { ByteWriter } from '../shuffle/byte-writer.ts';
import { type FrameBounds, INCOMPLETE, parseFrame, writeRecord } from '../shuffle/record-format.ts';
import { decodeValue, writeValue } from '../shuffle/value-codec.ts';

/** The first 8 bytes of every tsmr records file. */
export const TSMR_RECORDS_MAGIC: Buffer = Buffer.from('TSMRKV\x00\x01', 'latin1');

/** Appends the record `(key, value)` to `out`, encoded through `scratch` (reset first). */
export function writeKeyValue(out: ByteWriter, scratch: ByteWriter, key: unknown, value: unknown): void {
  scratch.reset();
  writeValue(scratch, key);
  const keyEnd = scratch.pos;
  writeValue(scratch, value);
  writeRecord(out, scratch.buf, 0, keyEnd, scratch.buf, keyEnd, scratch.pos);
}

/** A decoded record and where its frame ends. */
export interface KeyValueFrame extends FrameBounds {
  key: unknown;
  value: unknown;
}

/**
 * Decodes the record whose frame starts at `buf[pos]`.
 * @returns the position after the frame, or {@link INCOMPLETE} when
 *   `buf[pos, end)` holds only part of it.
 * @throws TsmrError `TSMR_CORRUPT_DATA` for a bad varint; the value codec's
 *   `TSMR_CORRUPT_DATA` for bytes that are no encoded value.
 */
export function readKeyValue(buf: Buffer, pos: number, end: number, out: KeyValueFrame): number {
  const after = parseFrame(buf, pos, end, out);
  if (after === INCOMPLETE) return INCOMPLETE;
  out.key = decodeValue(buf, out.keyStart, out.keyEnd);
  out.value = decodeValue(buf, out.keyEnd, out.valueEnd);
  return after;
}

/** True when `buf[0, length)` starts with {@link TSMR_RECORDS_MAGIC}. */
export function hasRecordsMagic(buf: Buffer, length: number): boolean {
  return length >= TSMR_RECORDS_MAGIC.length && TSMR_RECORDS_MAGIC.compare(buf, 0, 8, 0, 8) === 0;
}
