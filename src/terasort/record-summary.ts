/**
 * What TeraValidate learns from one file of 100-byte records, read by a
 * worker thread: the number of records, their checksum, the first and last
 * key, keys out of order and repeated keys.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ErrorCode, TsmrError } from '../errors.ts';
import { ioError } from '../io/io-error.ts';
import { KEY_BYTES, RECORD_BYTES } from './gensort.ts';
import { sumRecordCrcs } from './record-checksum.ts';

export interface FileSummary {
  path: string;
  records: number;
  /** Sum of the records' CRC-32s. */
  checksum: bigint;
  /** Keys of the first and last record (absent for an empty file). */
  firstKey?: Uint8Array;
  lastKey?: Uint8Array;
  /** Records whose key is smaller than the one before (within the file). */
  unordered: number;
  /** Index of the first such record. */
  firstUnordered?: number;
  /** Records whose key equals the one before (within the file). */
  duplicates: number;
}

/** Records read per call. */
const RECORDS_PER_READ = 10_000;

/**
 * Reads `path` whole.
 * @throws TsmrError `TSMR_BAD_RECORD` when its size is not a multiple of 100
 *   bytes; `TSMR_IO` when it cannot be read.
 */
export default function summarizeRecords(path: string): FileSummary {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    if (size % RECORD_BYTES !== 0) {
      throw new TsmrError(
        ErrorCode.BAD_RECORD,
        `${path} is ${size} bytes, not a whole number of ${RECORD_BYTES}-byte records: it is not a TeraSort file, or it was cut`,
        { details: { file: path, offset: size - (size % RECORD_BYTES) } },
      );
    }
    const summary: FileSummary = {
      path,
      records: size / RECORD_BYTES,
      checksum: 0n,
      unordered: 0,
      duplicates: 0,
    };
    const buf = Buffer.allocUnsafe(RECORDS_PER_READ * RECORD_BYTES + KEY_BYTES);
    let index = 0;
    let havePrevious = false;
    for (let position = 0; position < size;) {
      // The previous chunk's last key sits at buf[0, 10); records follow from byte 10.
      const want = Math.min(RECORDS_PER_READ * RECORD_BYTES, size - position);
      let got = 0;
      while (got < want) {
        const n = readSync(fd, buf, KEY_BYTES + got, want - got, position + got);
        if (n === 0)
          throw new Error(`${path} ended at byte ${position + got} while being read (was it changed?)`);
        got += n;
      }
      summary.checksum += sumRecordCrcs(buf, KEY_BYTES, KEY_BYTES + want, RECORD_BYTES);
      let previous = havePrevious ? 0 : -1;
      for (let p = KEY_BYTES; p < KEY_BYTES + want; p += RECORD_BYTES, index++) {
        if (previous >= 0) {
          const order = buf.compare(buf, previous, previous + KEY_BYTES, p, p + KEY_BYTES);
          if (order < 0) {
            summary.unordered++;
            summary.firstUnordered ??= index;
          } else if (order === 0) summary.duplicates++;
        } else summary.firstKey = Uint8Array.from(buf.subarray(p, p + KEY_BYTES));
        previous = p;
      }
      buf.copy(buf, 0, previous, previous + KEY_BYTES);
      havePrevious = true;
      position += want;
    }
    if (summary.records > 0) summary.lastKey = Uint8Array.from(buf.subarray(0, KEY_BYTES));
    return summary;
  } catch (cause) {
    if (cause instanceof TsmrError) throw cause;
    throw ioError(`cannot read ${path}`, cause, { file: path });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
