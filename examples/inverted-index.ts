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

/**
 * A posting `doc:count`: the word occurs `count` times in document `doc`.
 * Postings are strings rather than `[doc, count]` tuples or objects because
 * strings take the value codec's fast path (objects go through the V8
 * serializer, much slower in the shuffle).
 */
type Posting = string;

const whitespace = /\s+/;
const letterOrDigit = /[a-z0-9]/;

/** Sums postings per document: document id → occurrences. */
function countsByDoc(postings: Iterable<Posting>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const posting of postings) {
    const colon = posting.lastIndexOf(':');
    const doc = posting.slice(0, colon);
    counts.set(doc, (counts.get(doc) ?? 0) + Number(posting.slice(colon + 1)));
  }
  return counts;
}

export default defineJob<number, string, string, Posting, string, string>({
  name: 'inverted-index',

  map(_offset, line, ctx) {
    const posting = `${basename(ctx.inputFile)}:1`;
    for (const token of line.split(whitespace)) {
      const slash = token.lastIndexOf('/');
      const word = (slash < 0 ? token : token.slice(0, slash)).toLowerCase();
      if (letterOrDigit.test(word)) ctx.emit(word, posting);
    }
  },

  // A combiner may emit several values for its key: one posting per document.
  combine(word, postings, ctx) {
    for (const [doc, count] of countsByDoc(postings)) ctx.emit(word, `${doc}:${count}`);
  },

  reduce(word, postings, ctx) {
    const counts = countsByDoc(postings);
    const docs = [...counts.keys()].sort();
    ctx.emit(word, docs.map((doc) => `${doc}:${counts.get(doc)}`).join(' '));
  },
});
