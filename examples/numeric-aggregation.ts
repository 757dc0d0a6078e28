/**
 * Numeric aggregation: sentence length (tokens per sentence) in the Brown
 * corpus, per genre — count, sum, min, max and mean.
 *
 * In the Brown corpus each non-empty line is one sentence of `word/tag` tokens
 * separated by whitespace. The genre is the second letter of the file name
 * (`ca01` is `a`, press reportage; names from the corpus' `cats.txt`). A row
 * `all` aggregates every genre.
 *
 * The combiner carries partial aggregates `{ count, sum, min, max }`, so each
 * map task sends one small record per genre to the shuffle, whatever its input
 * size. The mean is computed only in `reduce`, rounded to 3 decimals.
 *
 * Output: `genre\t{"count":…,"sum":…,"min":…,"max":…,"mean":…}`, sorted by genre.
 *
 *   npx tsmr run examples/numeric-aggregation.ts --input .data/corpus/brown --output out/numeric-aggregation --overwrite
 */
import { basename } from 'node:path';
import { defineJob } from '../src/index.ts';

/** A partial aggregate of sentence lengths (tokens). */
interface Aggregate {
  count: number;
  sum: number;
  min: number;
  max: number;
}

/** Brown genres by the second letter of a file name. */
const brownGenres: Readonly<Record<string, string>> = {
  a: 'news',
  b: 'editorial',
  c: 'reviews',
  d: 'religion',
  e: 'hobbies',
  f: 'lore',
  g: 'belles_lettres',
  h: 'government',
  j: 'learned',
  k: 'fiction',
  l: 'mystery',
  m: 'science_fiction',
  n: 'adventure',
  p: 'romance',
  r: 'humor',
};

const token = /\S+/g;

function addAll(values: Iterable<Aggregate>): Aggregate {
  const total: Aggregate = { count: 0, sum: 0, min: Infinity, max: -Infinity };
  for (const a of values) {
    total.count += a.count;
    total.sum += a.sum;
    if (a.min < total.min) total.min = a.min;
    if (a.max > total.max) total.max = a.max;
  }
  return total;
}

export default defineJob<number, string, string, Aggregate, string, Aggregate & { mean: number }>({
  name: 'numeric-aggregation',

  map(_offset, line, ctx) {
    const tokens = line.match(token)?.length ?? 0;
    if (tokens === 0) return;
    const letter = basename(ctx.inputFile).charAt(1);
    const genre = brownGenres[letter] ?? `unknown-${letter}`;
    const one: Aggregate = { count: 1, sum: tokens, min: tokens, max: tokens };
    ctx.emit(genre, one);
    ctx.emit('all', one);
  },

  combine(genre, values, ctx) {
    ctx.emit(genre, addAll(values));
  },

  reduce(genre, values, ctx) {
    const total = addAll(values);
    ctx.emit(genre, { ...total, mean: Math.round((total.sum / total.count) * 1000) / 1000 });
  },
});
