/**
 * The order-independent checksum of a set of records that gensort (`-c`),
 * valsort and Hadoop's TeraGen/TeraValidate use: the sum of the CRC-32 of
 * each record, as a 128-bit number. The same records in any order and in any
 * files give the same sum; a changed, lost or repeated record changes it.
 */
import { crc32 } from 'node:zlib';

/** Most records summed as a double before the sum moves to a bigint (2^21 · 2^32 < 2^53). */
const BATCH = 1 << 21;

/** Sums the CRC-32 of the `recordLength`-byte records of `buf[start, end)` (a whole number of them). */
export function sumRecordCrcs(buf: Buffer, start: number, end: number, recordLength: number): bigint {
  let total = 0n;
  let partial = 0;
  let n = 0;
  for (let p = start; p < end; p += recordLength) {
    partial += crc32(buf.subarray(p, p + recordLength));
    if (++n === BATCH) {
      total += BigInt(partial);
      partial = 0;
      n = 0;
    }
  }
  return total + BigInt(partial);
}

/** A checksum as valsort prints it: lowercase hex, no leading zeros. */
export function formatChecksum(sum: bigint): string {
  return (sum & ((1n << 128n) - 1n)).toString(16);
}
