/**
 * Plain TypeScript reference implementations of the examples, written
 * independently of tsmr and of the example modules (whole files read at once,
 * no shared code), for `test/examples.test.ts`. Each returns the exact bytes the
 * example's output should hold once its part files are concatenated in the
 * stated order.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, relative } from 'node:path';

/** Lines of a file as the `text` input format sees them: split on `\n`, one trailing `\r` dropped. */
function linesOf(text: string): { offset: number; line: string }[] {
  const lines: { offset: number; line: string }[] = [];
  let offset = 0;
  while (offset < text.length) {
    let end = text.indexOf('\n', offset);
    if (end < 0) end = text.length;
    let line = text.slice(offset, end);
    if (end < text.length && line.endsWith('\r')) line = line.slice(0, -1);
    lines.push({ offset, line });
    offset = end + 1;
  }
  return lines;
}

const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * grep: `file:offset\tline\n` for every matching line, `file` relative to `cwd`,
 * sorted by file bytes then offset; latin1 bytes.
 */
export function grepReference(files: readonly string[], pattern: string, flags: string, cwd: string): Buffer {
  const regex = new RegExp(pattern, flags);
  const hits: { file: string; offset: number; line: string }[] = [];
  for (const path of files) {
    const file = relative(cwd, path);
    for (const { offset, line } of linesOf(readFileSync(path, 'latin1'))) {
      if (regex.test(line)) hits.push({ file, offset, line });
    }
  }
  hits.sort((a, b) => byBytes(a.file, b.file) || a.offset - b.offset);
  return Buffer.from(hits.map((h) => `${h.file}:${h.offset}\t${h.line}\n`).join(''), 'latin1');
}

/** The `H:MM`/`HH:MM` hour of a Date header: first digits, not after a word character, before `:` and two digits. */
function firstHour(line: string): number | undefined {
  const digit = (i: number): boolean => i >= 0 && i < line.length && line[i]! >= '0' && line[i]! <= '9';
  const wordChar = (i: number): boolean => i >= 0 && /[A-Za-z0-9_]/.test(line[i]!);
  for (let i = 0; i < line.length; i++) {
    if (!digit(i) || wordChar(i - 1)) continue;
    const width = digit(i + 1) ? 2 : 1;
    if (line[i + width] === ':' && digit(i + width + 1) && digit(i + width + 2)) {
      const hour = Number(line.slice(i, i + width));
      return hour < 24 ? hour : undefined;
    }
  }
  return undefined;
}

/**
 * spam-headers: `kind\tvalue\tmessages\n` rows for `domain`, `folder` and `hour`,
 * in that order; domains and folders by bytes, hours numerically; latin1 bytes.
 */
export function spamHeadersReference(files: readonly string[]): Buffer {
  const domains = new Map<string, number>();
  const folders = new Map<string, number>();
  const hours = new Map<number, number>();
  const add = <K>(map: Map<K, number>, key: K): void => void map.set(key, (map.get(key) ?? 0) + 1);
  for (const path of files) {
    add(folders, basename(dirname(path)));
    const lines = linesOf(readFileSync(path, 'latin1')).map((l) => l.line);
    const headerEnd = lines.indexOf('');
    const header = headerEnd < 0 ? lines : lines.slice(0, headerEnd);
    const from = header.find((l) => l.slice(0, 5).toLowerCase() === 'from:');
    const date = header.find((l) => l.slice(0, 5).toLowerCase() === 'date:');
    const domain = from === undefined ? undefined : /@([A-Za-z0-9.-]*)[^@]*$/.exec(from);
    if (domain !== undefined && domain !== null) {
      const name = domain[1]!.toLowerCase().replace(/\.+$/, '');
      if (name !== '') add(domains, name);
    }
    const hour = date === undefined ? undefined : firstHour(date);
    if (hour !== undefined) add(hours, hour);
  }
  const rows: string[] = [];
  for (const [kind, map] of [
    ['domain', domains],
    ['folder', folders],
  ] as const) {
    for (const key of [...map.keys()].sort(byBytes)) rows.push(`${kind}\t${key}\t${map.get(key)}\n`);
  }
  for (const hour of [...hours.keys()].sort((a, b) => a - b))
    rows.push(`hour\t${hour}\t${hours.get(hour)}\n`);
  return Buffer.from(rows.join(''), 'latin1');
}

/**
 * sender-timeline: `domain\tISO time\tfolder/file\tseconds since the previous\n`,
 * sorted by domain bytes, then time, then file, from a whole-file header parse;
 * and the `Date:` lines that do not parse.
 */
export function senderTimelineReference(files: readonly string[]): {
  output: Buffer;
  /** The first `Date:` header lines that do not parse (what `strict=true` throws on). */
  undated: { file: string; offset: number; line: string }[];
} {
  const messages: { domain: string; time: number; file: string }[] = [];
  const undated: { file: string; offset: number; line: string }[] = [];
  for (const path of files) {
    const lines = linesOf(readFileSync(path, 'latin1'));
    const headerEnd = lines.findIndex((l) => l.line === '');
    const header = headerEnd < 0 ? lines : lines.slice(0, headerEnd);
    const from = header.find((l) => l.line.slice(0, 5).toLowerCase() === 'from:')?.line;
    const date = header.find((l) => l.line.slice(0, 5).toLowerCase() === 'date:');
    const domain = from === undefined ? null : /@([A-Za-z0-9.-]*)[^@]*$/.exec(from);
    const name = domain?.[1]!.toLowerCase().replace(/\.+$/, '');
    const time = date === undefined ? NaN : Date.parse(date.line.slice(5));
    const valid = Number.isFinite(time) && /^\d{4}-/.test(new Date(time).toISOString());
    if (date !== undefined && !valid) undated.push({ file: path, offset: date.offset, line: date.line });
    if (name === undefined || name === '' || !valid) continue;
    messages.push({ domain: name, time, file: `${basename(dirname(path))}/${basename(path)}` });
  }
  messages.sort((a, b) => byBytes(a.domain, b.domain) || a.time - b.time || byBytes(a.file, b.file));
  const rows = messages.map((m, i) => {
    const previous = messages[i - 1];
    const gap = previous?.domain === m.domain ? String((m.time - previous.time) / 1000) : '';
    return `${m.domain}\t${new Date(m.time).toISOString()}\t${m.file}\t${gap}\n`;
  });
  return { output: Buffer.from(rows.join(''), 'latin1'), undated };
}

/** spam-words: `word\tBrown count\tspam count\n` for the words both use, sorted by word. */
export function spamWordsReference(brownFiles: readonly string[], spamFiles: readonly string[]): Buffer {
  const brown = new Map<string, number>();
  const spam = new Map<string, number>();
  const add = (map: Map<string, number>, word: string): void => void map.set(word, (map.get(word) ?? 0) + 1);
  for (const path of brownFiles) {
    for (const token of readFileSync(path, 'utf8').split(/\s+/)) {
      const word = token.slice(0, token.lastIndexOf('/')).toLowerCase();
      if (/^[a-z]+$/.test(word)) add(brown, word);
    }
  }
  for (const path of spamFiles) {
    for (const word of readFileSync(path, 'latin1')
      .toLowerCase()
      .match(/[a-z]+/g) ?? [])
      add(spam, word);
  }
  const rows = [...brown.keys()]
    .filter((w) => spam.has(w))
    .sort(byBytes)
    .map((w) => `${w}\t${brown.get(w)}\t${spam.get(w)}\n`);
  return Buffer.from(rows.join(''));
}

/** genre-words: `category\twords\tdistinct\ttop words\n` by category, from cats.txt and whole files. */
export function genreWordsReference(files: readonly string[], catsFile: string, minLength = 7): Buffer {
  const categories = new Map(
    readFileSync(catsFile, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => l.trim().split(/\s+/) as [string, string]),
  );
  const counts = new Map<string, Map<string, number>>();
  for (const path of files) {
    const category = categories.get(basename(path))!;
    const words = counts.get(category) ?? new Map<string, number>();
    counts.set(category, words);
    for (const token of readFileSync(path, 'utf8').split(/\s+/)) {
      const word = token.slice(0, token.lastIndexOf('/')).toLowerCase();
      if (/^[a-z]+$/.test(word)) words.set(word, (words.get(word) ?? 0) + 1);
    }
  }
  const rows = [...counts.keys()].sort(byBytes).map((category) => {
    const words = counts.get(category)!;
    const total = [...words.values()].reduce((a, b) => a + b, 0);
    const top = [...words]
      .filter(([w]) => w.length >= minLength)
      .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
      .slice(0, 5)
      .map(([w, n]) => `${w}:${n}`)
      .join(' ');
    return `${category}\t${total}\t${words.size}\t${top}\n`;
  });
  return Buffer.from(rows.join(''));
}

/** inverted-index: `word\tdoc:count …\n` lines, sorted by word bytes. */
export function invertedIndexReference(files: readonly string[]): Buffer {
  const index = new Map<string, Map<string, number>>();
  for (const path of files) {
    const doc = basename(path);
    for (const token of readFileSync(path, 'utf8').match(/\S+/g) ?? []) {
      const word = token.replace(/\/[^/]*$/, '').toLowerCase();
      if (!/[a-z0-9]/.test(word)) continue;
      let postings = index.get(word);
      if (postings === undefined) index.set(word, (postings = new Map()));
      postings.set(doc, (postings.get(doc) ?? 0) + 1);
    }
  }
  const lines: string[] = [];
  for (const word of [...index.keys()].sort(byBytes)) {
    const postings = index.get(word)!;
    const docs = [...postings.keys()].sort();
    lines.push(`${word}\t${docs.map((d) => `${d}:${postings.get(d)}`).join(' ')}\n`);
  }
  return Buffer.from(lines.join(''));
}

/** One row of numeric-aggregation. */
export interface SentenceStats {
  count: number;
  sum: number;
  min: number;
  max: number;
  mean: number;
}

/**
 * numeric-aggregation: tokens per non-empty line, per Brown genre (taken from
 * the corpus' `cats.txt`, file → genre) and `all`, sorted by genre.
 */
export function numericAggregationReference(
  files: readonly string[],
  catsFile: string,
): [string, SentenceStats][] {
  const genreOf = new Map(
    readFileSync(catsFile, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => l.trim().split(/\s+/) as [string, string]),
  );
  const lengths = new Map<string, number[]>();
  for (const path of files) {
    const genre = genreOf.get(basename(path));
    if (genre === undefined) throw new Error(`no genre for ${path} in ${catsFile}`);
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const n = line.split(/[ \t\r\n\v\f]+/).filter((t) => t !== '').length;
      if (n === 0) continue;
      for (const key of [genre, 'all']) {
        if (!lengths.has(key)) lengths.set(key, []);
        lengths.get(key)!.push(n);
      }
    }
  }
  return [...lengths.keys()].sort(byBytes).map((genre) => {
    const ns = lengths.get(genre)!;
    const stats = { count: ns.length, sum: 0, min: Infinity, max: -Infinity };
    for (const n of ns) {
      stats.sum += n;
      stats.min = Math.min(stats.min, n);
      stats.max = Math.max(stats.max, n);
    }
    return [genre, { ...stats, mean: Math.round((stats.sum / stats.count) * 1000) / 1000 }];
  });
}

/** The numeric-aggregation rows as the text output writes them: `genre\t<JSON>\n`. */
export function numericAggregationText(rows: [string, SentenceStats][]): Buffer {
  return Buffer.from(rows.map(([genre, stats]) => `${genre}\t${JSON.stringify(stats)}\n`).join(''));
}

/** The Brown corpus' `cats.txt`: file id → category. */
function brownCategories(catsFile: string): Map<string, string> {
  return new Map(
    readFileSync(catsFile, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => l.trim().split(/\s+/) as [string, string]),
  );
}

/** The words of a Brown file: the text before the last `/` of each token, lowercased, when only letters a–z. */
function brownFileWords(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split(/\s+/)
    .map((token) => token.slice(0, token.lastIndexOf('/')).toLowerCase())
    .filter((word) => /^[a-z]+$/.test(word));
}

/** genre-top-words: `genre\trank\tword\tcount\n`, the `k` most frequent words of each genre (ties by word). */
export function genreTopWordsReference(files: readonly string[], catsFile: string, k: number): Buffer {
  const categories = brownCategories(catsFile);
  const counts = new Map<string, Map<string, number>>();
  for (const path of files) {
    const genre = categories.get(basename(path))!;
    const words = counts.get(genre) ?? new Map<string, number>();
    counts.set(genre, words);
    for (const word of brownFileWords(path)) words.set(word, (words.get(word) ?? 0) + 1);
  }
  const rows: string[] = [];
  for (const genre of [...counts.keys()].sort(byBytes)) {
    const ranked = [...counts.get(genre)!].sort(([a, x], [b, y]) => y - x || byBytes(a, b)).slice(0, k);
    ranked.forEach(([word, n], i) => rows.push(`${genre}\t${i + 1}\t${word}\t${n}\n`));
  }
  return Buffer.from(rows.join(''));
}

/**
 * syllables-join: per genre, `genre\tsyllables per use\tuses of dictionary words\tother uses\n`,
 * syllables from each word's first pronunciation in the CMU dictionary (vowels: phonemes ending in a digit).
 */
export function syllablesReference(dictFile: string, files: readonly string[], catsFile: string): Buffer {
  const syllables = new Map<string, number>();
  for (const line of readFileSync(dictFile, 'latin1').split('\n')) {
    const match = /^(\S+) {2}(.*)$/.exec(line);
    if (match === null || match[1]!.includes('(')) continue;
    syllables.set(match[1]!.toLowerCase(), match[2]!.split(' ').filter((p) => /[0-9]$/.test(p)).length);
  }
  const categories = brownCategories(catsFile);
  const sums = new Map<string, [number, number, number]>();
  for (const path of files) {
    const genre = categories.get(basename(path))!;
    const sum = sums.get(genre) ?? [0, 0, 0];
    sums.set(genre, sum);
    for (const word of brownFileWords(path)) {
      const s = syllables.get(word);
      if (s === undefined) sum[2]++;
      else {
        sum[0] += s;
        sum[1]++;
      }
    }
  }
  return Buffer.from(
    [...sums.keys()]
      .sort(byBytes)
      .map((genre) => {
        const [s, known, unknown] = sums.get(genre)!;
        return `${genre}\t${(s / known).toFixed(4)}\t${known}\t${unknown}\n`;
      })
      .join(''),
  );
}

/** stopwords: `word\tcount\n` of the Brown words not in the stop-word list (one a line), sorted by word. */
export function stopwordsReference(
  files: readonly string[],
  stopFile: string,
): { text: Buffer; dropped: number } {
  const stop = new Set(
    readFileSync(stopFile, 'utf8')
      .split('\n')
      .map((w) => w.trim().toLowerCase()),
  );
  const counts = new Map<string, number>();
  let dropped = 0;
  for (const path of files) {
    for (const word of brownFileWords(path)) {
      if (stop.has(word)) dropped++;
      else counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
  const rows = [...counts.keys()].sort(byBytes).map((w) => `${w}\t${counts.get(w)}\n`);
  return { text: Buffer.from(rows.join('')), dropped };
}
