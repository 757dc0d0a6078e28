/**
 * Word count: how many times each word occurs in the input.
 *
 * A word is a maximal run of bytes that are not ASCII whitespace (space, `\t`,
 * `\n`, `\v`, `\f`, `\r`), counted as an exact byte string with its case kept,
 * exactly as `LC_ALL=C tr -s ' \t\n\v\f\r' '\n' | sort | uniq -c` counts them.
 * The map reads its input as bytes, in blocks of whole lines (`encoding:
 * 'buffer', blocks: true`: a few calls per MiB, not one per line; `\n` is
 * whitespace too), and emits each word as a byte range (`ctx.emitText`)
 * decoded as latin1 (one character per byte),
 * and the output is written as latin1, so every byte passes through unchanged,
 * UTF-8 or not. Output: `word\tcount` lines, each `part-r-NNNNN` sorted by the
 * word's bytes.
 *
 * Run it on the real corpora (Brown + SpamAssassin, prepared by `npm run corpus`):
 *
 *   npm run example:wordcount
 *   npx tsmr run examples/wordcount.ts --input .data/corpus --output out/wordcount --overwrite
 */
import { defineJob } from '../src/index.ts';

/** Whether byte `c` is ASCII whitespace: space, `\t`, `\n`, `\v`, `\f`, `\r`. */
const isSpace = (c: number): boolean => c === 0x20 || (c <= 0x0d && c >= 0x09);

export default defineJob<number, Buffer, string, number, string, number>({
  name: 'wordcount',
  inputFormat: { type: 'text', encoding: 'buffer', blocks: true },
  outputFormat: { type: 'text', encoding: 'latin1' },

  map(_offset, block, ctx) {
    // A byte scan: the words are never made into strings here; a word the
    // map task has seen before is looked up by its bytes.
    const n = block.length;
    let i = 0;
    for (;;) {
      while (i < n && isSpace(block[i])) i++;
      if (i === n) return;
      const start = i;
      while (i < n && !isSpace(block[i])) i++;
      ctx.emitText(block, start, i, 1, 'latin1');
    }
  },

  // Counts are summed per word as they are emitted (Spark's reduceByKey), so a
  // map task holds one count per distinct word; reduce sums the map tasks' counts.
  combineValues: (a, b) => a + b,

  reduce(w, counts, ctx) {
    let n = 0;
    for (const c of counts) n += c;
    ctx.emit(w, n);
  },
});
