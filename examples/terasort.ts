/**
 * TeraSort (Hadoop's `TeraSort`; O'Malley, "TeraByte Sort on Apache Hadoop",
 * 2008): sorts 100-byte Sort Benchmark records by their 10-byte key, with a
 * total-order partition, so that the part files concatenated are one sorted
 * file.
 *
 * Input: files of 100-byte records, read as fixed-length records (`{ fixed:
 * 100 }`): the ASCII records of `tsmr teragen` / `gensort -a` (their `\r\n`
 * is part of the record) or gensort's binary ones. Map emits (the first 10
 * bytes, the record); `totalOrder()` samples keys and cuts the key space into
 * R ranges; each reducer writes its records back unchanged with the `raw`
 * output format (no key, tab or newline added). So `part-r-00000 …
 * part-r-NNNNN` concatenated is a valid Sort Benchmark output file, and, when
 * the keys are distinct, byte for byte what `LC_ALL=C sort` makes of the
 * input. Records with equal keys come out in input order within a part.
 *
 *   npx tsmr teragen 1000000 tera/in
 *   npx tsmr run examples/terasort.ts --input tera/in --output tera/out
 *   npx tsmr teravalidate tera/out --input tera/in
 */
import { defineJob, totalOrder, type MapContext } from '../src/index.ts';

/** Bytes of a record, and of its key. */
const RECORD_BYTES = 100;
const KEY_BYTES = 10;

export default defineJob({
  name: 'terasort',
  inputFormat: { fixed: RECORD_BYTES },
  outputFormat: 'raw',
  partition: totalOrder(),
  map(_offset: number, record: Buffer, ctx: MapContext<Uint8Array, Uint8Array>) {
    ctx.emit(record.subarray(0, KEY_BYTES), record);
  },
  reduce(key, records, ctx) {
    for (const record of records) ctx.emit(key, record);
  },
});
