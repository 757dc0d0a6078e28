/**
 * A reduce-side join of two real data sets: each word's count in the spam of
 * the SpamAssassin public corpus and in the Brown corpus of edited American
 * English, for the words both use. Which words does spam use far more than
 * edited English does?
 *
 * Two inputs, each with its own map (Hadoop's `MultipleInputs`):
 * - `brown` (default `.data/corpus/brown`; `--param brown=<path or glob>`): Brown
 *   tokens look like `jury/nn`; the word is the text before the last `/`,
 *   lowercased, kept when it is only letters a–z;
 * - `spam` (default `.data/corpus/spam/spam-*`, the two spam folders;
 *   `--param spam=<path or glob>`): raw emails read as latin1, headers included; the
 *   words are the runs of letters a–z of each lowercased line.
 *
 * Both maps emit the composite key `[word, side]` (side 0 for Brown, 1 for
 * spam) with a count of 1, folded per key in the map tasks (`combineValues`).
 * `groupBy: 1` gives one `reduce` call per word, its Brown counts first (the
 * side orders the values: the classic reduce-side join, where one side is
 * seen before the other without holding either in memory). Words that only
 * one side uses are left out (an inner join).
 *
 * Output, each part sorted by word: `word\tBrown count\tspam count`.
 *
 *   npx tsmr run examples/spam-words.ts --output out/spam-words --overwrite
 */
import { defineJob, type MapContext } from '../src/index.ts';

type JoinKey = [word: string, side: 0 | 1];

const BROWN = 0;
const SPAM = 1;
const letters = /^[a-z]+$/;
const words = /[a-z]+/g;

export default defineJob({
  name: 'spam-words',
  inputs: [
    {
      paths: (params) => String(params.brown ?? '.data/corpus/brown'),
      map(_offset: number, line: string, ctx: MapContext<JoinKey, number>) {
        for (const token of line.split(/\s+/)) {
          const word = token.slice(0, token.lastIndexOf('/')).toLowerCase();
          if (letters.test(word)) ctx.emit([word, BROWN], 1);
        }
      },
    },
    {
      paths: (params) => String(params.spam ?? '.data/corpus/spam/spam-*'),
      inputFormat: { type: 'text', encoding: 'latin1' },
      map(_offset: number, line: string, ctx: MapContext<JoinKey, number>) {
        for (const word of line.toLowerCase().match(words) ?? []) ctx.emit([word, SPAM], 1);
      },
    },
  ],
  groupBy: 1,
  combineValues: (a, b) => a + b,

  reduce([word], counts, ctx) {
    const total = [0, 0];
    for (const [[, side], n] of counts.entries()) total[side] += n;
    if (total[BROWN] > 0 && total[SPAM] > 0) ctx.emit(word, `${total[BROWN]}\t${total[SPAM]}`);
  },
});
