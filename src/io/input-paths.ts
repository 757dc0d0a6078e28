/**
 * Turns the user's input arguments (files, directories, glob patterns) into the
 * sorted list of input files a job reads, and the entries it skipped.
 */
import { lstat, readdir, stat } from 'node:fs/promises';
import type { Dirent, Stats } from 'node:fs';
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
 * Why an entry found in an input directory or by a glob was skipped although
 * its name is not hidden: it is not a regular file or a directory (`fifo`,
 * `socket`, `device`, `other`), a symbolic link leads nowhere (`dangling
 * symlink`) or in a circle (`symlink loop`), or it was deleted between the
 * listing and its `stat` (`vanished`).
 */
export type SkipReason =
  'fifo' | 'socket' | 'device' | 'other' | 'dangling symlink' | 'symlink loop' | 'vanished';

/** An entry of an input directory or glob that holds nothing to read. */
export interface SkippedInput {
  /** Absolute path. */
  path: string;
  reason: SkipReason;
}

/** What {@link resolveInputs} found. */
export interface ResolvedInputs {
  /** The input files, sorted by path (UTF-16 code unit order) and deduplicated. */
  files: InputFile[];
  /** Entries skipped for a {@link SkipReason}, sorted by path; hidden names are not listed. */
  skipped: SkippedInput[];
}

/** What the listing found so far. */
interface Found {
  files: Map<string, InputFile>;
  skipped: Map<string, SkipReason>;
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
 * Entries of directories that hold nothing to read (FIFOs, sockets, devices,
 * dangling symbolic links…) are skipped and returned in `skipped`, so that the
 * job can warn about them; hidden names are skipped silently. (A glob's
 * matches come from tinyglobby, which leaves FIFOs, sockets and dangling links
 * out itself; a matched directory is listed as above.)
 *
 * @returns the files and the skipped entries.
 * @throws TsmrError `TSMR_INPUT_NOT_FOUND` naming the input when a path does not
 *   exist, is neither a file nor a directory, or when a directory or glob
 *   yields no file.
 * @throws TsmrError `TSMR_IO` when a path cannot be read (permission…).
 */
export async function resolveInputs(inputs: readonly string[]): Promise<ResolvedInputs> {
  const found: Found = { files: new Map(), skipped: new Map() };
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
  const byPath = <T>(m: Map<string, T>) => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    files: byPath(found.files).map(([, file]) => file),
    skipped: byPath(found.skipped).map(([p, reason]) => ({ path: p, reason })),
  };
}

function addFile(found: Found, abs: string, st: Stats): void {
  found.files.set(abs, { path: abs, size: st.size, mtimeMs: st.mtimeMs });
}

/**
 * Adds a listed entry: a file to `found`, a directory to `dirs` (to be listed),
 * anything else to the skipped. @returns true when it was a file.
 */
function addEntry(found: Found, dirs: string[], abs: string, st: Stats | SkipReason): boolean {
  if (typeof st === 'string') found.skipped.set(abs, st);
  else if (st.isFile()) addFile(found, abs, st);
  else if (st.isDirectory()) dirs.push(abs);
  else found.skipped.set(abs, kindOf(st));
  return typeof st !== 'string' && st.isFile();
}

/** The {@link SkipReason} of an entry that is neither a file, a directory nor a symbolic link. */
function kindOf(entry: Stats | Dirent): SkipReason {
  if (entry.isFIFO()) return 'fifo';
  if (entry.isSocket()) return 'socket';
  if (entry.isBlockDevice() || entry.isCharacterDevice()) return 'device';
  return 'other';
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
async function addGlob(input: string, found: Found): Promise<number> {
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
    const dirs: string[] = [];
    if (addEntry(found, dirs, abs, await statEntry(abs, input))) count++;
    for (const d of dirs) count += await addDirectory(d, input, found, listed);
  }
  return count;
}

/**
 * Adds the files below `dir` to `found`.
 * @param listed `dev:ino` of the directories already listed (symbolic-link cycles, overlapping inputs).
 * @returns the number of files found below `dir` (new or already known).
 */
async function addDirectory(dir: string, input: string, found: Found, listed: Set<string>): Promise<number> {
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
    else found.skipped.set(child, kindOf(entry));
  }
  // Stat files (and links, which may lead to directories) STAT_BATCH at a time.
  let count = 0;
  for (let i = 0; i < files.length; i += STAT_BATCH) {
    const batch = files.slice(i, i + STAT_BATCH);
    const stats = await Promise.all(batch.map((f) => statEntry(f, input)));
    for (let j = 0; j < batch.length; j++) if (addEntry(found, dirs, batch[j], stats[j])) count++;
  }
  dirs.sort();
  for (const child of dirs) count += await addDirectory(child, input, found, listed);
  return count;
}

const STAT_BATCH = 64;

/**
 * `stat` of a path (following links), or why there is nothing to read there:
 * a dangling or looping link, or nothing at all (`vanished`: missing, or
 * deleted since it was listed).
 */
async function statEntry(p: string, input: string): Promise<Stats | SkipReason> {
  try {
    return await stat(p);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') return 'symlink loop';
    if (code !== 'ENOENT' && code !== 'ENOTDIR') {
      throw ioError(`cannot read the input ${p}`, cause, { input, path: p });
    }
  }
  const isLink = await lstat(p).then(
    () => true,
    () => false,
  );
  return isLink ? 'dangling symlink' : 'vanished';
}

/** `stat` (following links); `undefined` when there is nothing to read at `p` ({@link statEntry}). */
async function statOrUndefined(p: string, input: string): Promise<Stats | undefined> {
  const st = await statEntry(p, input);
  return typeof st === 'string' ? undefined : st;
}
