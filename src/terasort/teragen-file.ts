/**
 * One TeraGen output file, written by a worker thread of `teraGen`: records
 * `first … first + count − 1` of the gensort stream, in 1 MB writes.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { ioError } from '../io/io-error.ts';
import { RECORD_BYTES, writeRecords } from './gensort.ts';
import { sumRecordCrcs } from './record-checksum.ts';

/** What a worker thread is asked to write. */
export interface TeraGenFile {
  path: string;
  first: number;
  count: number;
  seed: number;
}

/** Records written per write call. */
const RECORDS_PER_WRITE = 10_000;

/**
 * Writes one file (created or truncated).
 * @returns the checksum of its records (sum of their CRC-32s).
 * @throws TsmrError `TSMR_IO` naming the file.
 */
export default function writeTeraGenFile(file: TeraGenFile): bigint {
  const buf = Buffer.allocUnsafe(RECORDS_PER_WRITE * RECORD_BYTES);
  let fd: number | undefined;
  let checksum = 0n;
  try {
    fd = openSync(file.path, 'w');
    for (let done = 0; done < file.count;) {
      const n = Math.min(RECORDS_PER_WRITE, file.count - done);
      writeRecords(buf, 0, file.first + done, n, file.seed);
      checksum += sumRecordCrcs(buf, 0, n * RECORD_BYTES, RECORD_BYTES);
      for (let written = 0; written < n * RECORD_BYTES;) {
        written += writeSync(fd, buf, written, n * RECORD_BYTES - written);
      }
      done += n;
    }
    closeSync(fd);
    fd = undefined;
  } catch (cause) {
    if (fd !== undefined) closeSync(fd);
    throw ioError(`cannot write the TeraGen file ${file.path}`, cause, { file: file.path });
  }
  return checksum;
}
