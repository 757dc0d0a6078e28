/**
 * Inverted index over the Brown corpus: for each word, the documents it occurs
 * in and how often.
 *
 * Brown tokens are written `word/tag` (`The/at`, `jury/nn`, `Atlanta's/np$`).
 * A token's word is the text before its last `/`, lowercased; tokens whose word
 * has no ASCII letter or digit (punctuation such as `,/,` or ``` ``/`` ```) are
 * left out. A document id is the file's base name (`ca01` … `cr09`).
 *
 * Output: `word\tdoc:count doc:count …` with documents in ascending id order;
 * each `part-r-NNNNN` is sorted by word (UTF-8 byte order).
 *
 *   npx tsmr run examples/inverted-index.ts --input .data/corpus/brown --output out/inverted-index --overwrite
 */
import { basename } from 'node:path';
import { defineJob } from '../src/index.ts';

/** Postings of one word: document id → occurrences. */
type Postings = Record<string, number>;

const whitespace = /\s+/;
const letterOrDigit = /[a-z0-9]/;

/** Adds every posting of `values` to one object. */
function mergePostings(values: Iterable<Postings>): Postings {
  const merged: Postings = {};
  for (const postings of values) {
    for (const doc in postings) merged[doc] = (merged[doc] ?? 0) + postings[doc];
  }
  return merged;
}

export default defineJob<number, string, string, Postings, string, string>({
  name: 'inverted-index',

  map(_offset, line, ctx) {
    const doc = basename(ctx.inputFile);
    for (const token of line.split(whitespace)) {
      const slash = token.lastIndexOf('/');
      const word = (slash < 0 ? token : token.slice(0, slash)).toLowerCase();
      if (letterOrDigit.test(word)) ctx.emit(word, { [doc]: 1 });
    }
  },

  combine(word, values, ctx) {
    ctx.emit(word, mergePostings(values));
  },

  reduce(word, values, ctx) {
    const postings = mergePostings(values);
    const docs = Object.keys(postings).sort();
    ctx.emit(word, docs.map((doc) => `${doc}:${postings[doc]}`).join(' '));
  },
});
