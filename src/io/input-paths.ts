/**
 * Turns the user's input arguments (files, directories, glob patterns) into the
 * sorted list of input files a job reads.
 */
import { readdir, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { glob } from 'tinyglobby';
import { ErrorCode, TsmrError } from '../errors.ts';
import { ioError } from './io-error.ts';

/** One input file. */
export interface InputFile {
  /** Absolute path. */
  path: string;
  /** Size in bytes when the inputs were resolved. */
  size: number;
  /**
   * Modification time (`stat`'s `mtimeMs`, epoch ms with a fraction) when the
   * inputs were resolved. With `size` it is what the record reader checks, so
   * that a file that changes before or while it is read fails the job
   * (`TSMR_INPUT_CHANGED`) instead of being half read.
   */
  mtimeMs: number;
}

/**
 * True for a file or directory name that input listing skips: names starting
 * with `.` (hidden files) or `_` (`_SUCCESS`, `_temporary`, `_job.json`…), as
 * Hadoop's `FileInputFormat` hidden-file filter does. This is what lets one
 * job's output directory be the next job's input.
 */
export function isHiddenName(name: string): boolean {
  const c = name.charCodeAt(0);
  return c === 0x2e || c === 0x5f; // '.' or '_'
}

/**
 * Resolves inputs to files.
 *
 * Each input is, in this order of precedence:
 * - an existing regular file: taken as is, even if its name starts with `.` or
 *   `_` (naming it is explicit);
 * - an existing directory: every regular file below it, recursively, skipping
 *   files and directories whose name starts with `.` or `_` ({@link isHiddenName});
 *   symbolic links are followed, each directory is listed once;
 * - otherwise a glob pattern (tinyglobby syntax: `*`, `**`, `?`, `[…]`, `{a,b}`),
 *   relative to the current directory. A matched directory is listed as above.
 *   As in Hadoop, matched names starting with `.` or `_` are skipped, except
 *   in the pattern's literal leading directory (`_logs/*.txt` reads `_logs`).
 *
 * Relative paths are resolved against `process.cwd()`. Empty files are kept
 * (they yield no records). An empty `inputs` array gives an empty result.
 *
 * @returns the files, sorted by path (UTF-16 code unit order) and deduplicated.
 * @throws TsmrError `TSMR_INPUT_NOT_FOUND` naming the input when a path does not
 *   exist, is neither a file nor a directory, or when a directory or glob
 *   yields no file.
 * @throws TsmrError `TSMR_IO` when a path cannot be read (permission…).
 */
export async function resolveInputs(inputs: readonly string[]): Promise<InputFile[]> {
  const found = new Map<string, InputFile>();
  for (const input of inputs) {
    const abs = path.resolve(input);
    const st = await statOrUndefined(abs, input);
    if (st === undefined) {
      if (!isGlobPattern(input)) throw notFound(input, `${input} does not exist`);
      if ((await addGlob(input, found)) === 0) throw notFound(input, `the pattern ${input} matches no file`);
    } else if (st.isFile()) {
      addFile(found, abs, st);
    } else if (st.isDirectory()) {
      if ((await addDirectory(abs, input, found, new Set())) === 0) {
        throw notFound(
          input,
          `the directory ${input} contains no input file (names starting with . or _ are skipped)`,
        );
      }
    } else {
      throw notFound(input, `${input} is not a file or a directory`);
    }
  }
  const paths = [...found.keys()].sort();
  return paths.map((p) => found.get(p) as InputFile);
}

function addFile(found: Map<string, InputFile>, abs: string, st: Stats): void {
  found.set(abs, { path: abs, size: st.size, mtimeMs: st.mtimeMs });
}

function notFound(input: string, why: string): TsmrError {
  return new TsmrError(ErrorCode.INPUT_NOT_FOUND, `input not found: ${why}`, { details: { input } });
}

/** Characters that make an input a glob pattern. */
const GLOB_CHARS = /[*?[\]{}()!+@]/;

function isGlobPattern(input: string): boolean {
  return GLOB_CHARS.test(input);
}

/**
 * Splits a pattern into its literal leading directory and the rest, e.g.
 * `data/2024/*.txt` → `['data/2024', '*.txt']`.
 */
function splitPattern(pattern: string): [base: string, rest: string] {
  const firstGlob = pattern.search(GLOB_CHARS);
  const slash = pattern.lastIndexOf('/', firstGlob);
  if (slash === -1) return ['.', pattern];
  if (slash === 0) return ['/', pattern.slice(1)];
  return [pattern.slice(0, slash), pattern.slice(slash + 1)];
}

/** Adds the files a pattern matches; returns how many it matched (new or already known). */
async function addGlob(input: string, found: Map<string, InputFile>): Promise<number> {
  const [base, rest] = splitPattern(input);
  const cwd = path.resolve(base);
  if ((await statOrUndefined(cwd, input)) === undefined) return 0;
  let matches: string[];
  try {
    matches = await glob(rest, {
      cwd,
      absolute: false,
      dot: false,
      onlyFiles: false,
      expandDirectories: false,
      followSymbolicLinks: true,
    });
  } catch (cause) {
    throw ioError(`cannot expand the input pattern ${input}`, cause, { input });
  }
  // A directory sorts before the matches inside it, which are then listed
  // already (`listed`) and skipped.
  matches.sort();
  const listed = new Set<string>();
  let count = 0;
  for (const rel of matches) {
    if (rel.split('/').some(isHiddenName)) continue;
    const abs = path.resolve(cwd, rel);
    const st = await statOrUndefined(abs, input);
    if (st === undefined) continue;
    if (st.isFile()) {
      addFile(found, abs, st);
      count++;
    } else if (st.isDirectory()) {
      count += await addDirectory(abs, input, found, listed);
    }
  }
  return count;
}

/**
 * Adds the files below `dir` to `found`.
 * @param listed `dev:ino` of the directories already listed (symbolic-link cycles, overlapping inputs).
 * @returns the number of files found below `dir` (new or already known).
 */
async function addDirectory(
  dir: string,
  input: string,
  found: Map<string, InputFile>,
  listed: Set<string>,
): Promise<number> {
  const dirStat = await statOrUndefined(dir, input);
  if (dirStat === undefined) return 0;
  const id = `${dirStat.dev}:${dirStat.ino}`;
  if (listed.has(id)) return 0;
  listed.add(id);
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (cause) {
    throw ioError(`cannot list the input directory ${dir}`, cause, { input, path: dir });
  }
  // Name order makes the choice between two links to one directory deterministic.
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const files: string[] = [];
  const dirs: string[] = [];
  for (const entry of entries) {
    if (isHiddenName(entry.name)) continue;
    const child = path.join(dir, entry.name);
    if (entry.isFile() || entry.isSymbolicLink()) files.push(child);
    else if (entry.isDirectory()) dirs.push(child);
  }
  // Stat files (and links, which may lead to directories) STAT_BATCH at a time.
  let count = 0;
  for (let i = 0; i < files.length; i += STAT_BATCH) {
    const batch = files.slice(i, i + STAT_BATCH);
    const stats = await Promise.all(batch.map((f) => statOrUndefined(f, input)));
    for (let j = 0; j < batch.length; j++) {
      const st = stats[j];
      if (st === undefined) continue; // a dangling link, or deleted while listing
      if (st.isFile()) {
        addFile(found, batch[j], st);
        count++;
      } else if (st.isDirectory()) {
        dirs.push(batch[j]);
      }
    }
  }
  dirs.sort();
  for (const child of dirs) count += await addDirectory(child, input, found, listed);
  return count;
}

const STAT_BATCH = 64;

/** `stat` (following links); `undefined` when the path does not exist. */
async function statOrUndefined(p: string, input: string): Promise<Stats | undefined> {
  try {
    return await stat(p);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    // Missing, or a dangling or looping symbolic link: nothing to read.
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return undefined;
    throw ioError(`cannot read the input ${p}`, cause, { input, path: p });
  }
}
