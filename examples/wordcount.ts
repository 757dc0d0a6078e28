/**
 * Word count: how many times each word occurs in the input.
 *
 * A word is a maximal run of bytes that are not ASCII whitespace (space, `\t`,
 * `\n`, `\v`, `\f`, `\r`), counted as an exact byte string with its case kept,
 * exactly as `LC_ALL=C tr -s ' \t\n\v\f\r' '\n' | sort | uniq -c` counts them.
 * Input and output use `latin1` (one character per byte), so every byte passes
 * through unchanged, UTF-8 or not. Output: `word\tcount` lines, each
 * `part-r-NNNNN` sorted by the word's bytes.
 *
 * Run it on the real corpora (Brown + SpamAssassin, prepared by `npm run corpus`):
 *
 *   npm run example:wordcount
 *   npx tsmr run examples/wordcount.ts --input .data/corpus --output out/wordcount --overwrite
 */
import { defineJob } from '../src/index.ts';

/** One word: a run of bytes (as latin1 characters) that are not ASCII whitespace. */
const word = /[^ \t\n\v\f\r]+/g;

export default defineJob<number, string, string, number, string, number>({
  name: 'wordcount',
  inputFormat: { type: 'text', encoding: 'latin1' },
  outputFormat: { type: 'text', encoding: 'latin1' },

  map(_offset, line, ctx) {
    // `String.prototype.match` with a global regex was the fastest of split,
    // exec and a charCode scan in a measurement over the corpus.
    const words = line.match(word);
    if (words === null) return;
    for (let i = 0; i < words.length; i++) ctx.emit(words[i], 1);
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
