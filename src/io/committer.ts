/**
 * Output commit, after Hadoop's `FileOutputCommitter` (algorithm version 1).
 *
 * ```
 * <out>/_temporary/attempts/<task>_<attempt>/   an attempt writes here
 * <out>/_temporary/committed/<task>/            task commit: rename of the attempt dir
 * <out>/part-r-NNNNN, _job.json, _SUCCESS       job commit: files moved up, then markers
 * ```
 *
 * Replacing an existing output (`--overwrite`) keeps the old output readable
 * until the new job commits: the new job works under `<out>/_temporary/` beside
 * the old files, and only job commit swaps them (the old entries, `_SUCCESS`
 * first, are moved aside into `<out>/_temporary/previous/`, the new files moved
 * in, and the old ones deleted with `_temporary`). A job that fails or is
 * cancelled leaves the old output as it was.
 *
 * A rename onto an existing non-empty directory fails, so of two attempts of a
 * task racing to commit exactly one wins (DESIGN.md §2.4). Every attempt dir is
 * made non-empty before its rename (it holds an `.attempt` marker naming the
 * attempt), so even a task with no output cannot be committed twice.
 *
 * Job commit is not atomic (nor is Hadoop's): readers must wait for `_SUCCESS`.
 * If job commit fails, the files it moved are deleted again, so a failed job
 * leaves no `part-*` file.
 */
import type { Stats } from 'node:fs';
import { lstat, mkdir, readFile, readdir, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { ErrorCode, TsmrError, isTsmrError, usageError } from '../errors.ts';
import { ioError } from './io-error.ts';

const TEMPORARY = '_temporary';
const ATTEMPTS = 'attempts';
const COMMITTED = 'committed';
/** Where job commit moves the entries of an output being replaced, until the new output is in place. */
const PREVIOUS = 'previous';
/** Marker file in an attempt dir; not moved into the output. */
const ATTEMPT_MARKER = '.attempt';
const JOB_REPORT = '_job.json';
const SUCCESS = '_SUCCESS';

/** What {@link prepareOutput} found: commit and abort must know whether an old output is being replaced. */
export interface PreparedOutput {
  /** Absolute path of the output directory. */
  dir: string;
  /** The directory existed (`overwrite`): its old entries stay until {@link commitJob} swaps them. */
  replacing: boolean;
}

/**
 * Prepares `outDir` for a job: checks it, then creates
 * `<out>/_temporary/attempts/` and `<out>/_temporary/committed/`.
 *
 * With `overwrite`, an existing `outDir` is kept as it is (its old output stays
 * readable; a `_temporary` left by a crashed run is removed, as Hadoop's
 * committer cleans up at job setup) and is replaced only by {@link commitJob};
 * replacing is refused when `outDir` is not a directory, or is (by path or
 * after resolving symbolic links) the file-system root, the home directory,
 * the current directory, an input path, or an ancestor of one of these
 * ({@link overwriteRefusal}).
 *
 * @param opts.overwrite replace an existing `outDir` (the CLI's `--overwrite`).
 * @param opts.inputs the job's input arguments as given (files, directories, globs).
 * @throws TsmrError `TSMR_OUTPUT_EXISTS` when `outDir` exists and `overwrite` is false;
 *   `TSMR_USAGE` when replacing it is refused, or when `outDir` cannot be created
 *   because a parent is a file, access is denied or the file system is read-only;
 *   `TSMR_IO` when another file-system call fails.
 */
export async function prepareOutput(
  outDir: string,
  opts: { overwrite: boolean; inputs: readonly string[] },
): Promise<PreparedOutput> {
  const out = path.resolve(outDir);
  const existing = await lstatOrUndefined(out);
  if (existing !== undefined) {
    if (!opts.overwrite) {
      throw new TsmrError(
        ErrorCode.OUTPUT_EXISTS,
        `the output directory ${outDir} exists; pass --overwrite to replace it`,
        { details: { output: out } },
      );
    }
    await refuseUnsafeRemoval(outDir, out, opts.inputs);
    if (!existing.isDirectory()) {
      throw usageError(`cannot replace ${outDir}: it exists and is not a directory`, { output: out });
    }
    try {
      await rm(path.join(out, TEMPORARY), { recursive: true, force: true, maxRetries: 3 });
    } catch (cause) {
      throw ioError(`cannot remove ${path.join(out, TEMPORARY)} left by an earlier run`, cause, {
        path: out,
      });
    }
  }
  try {
    await mkdir(path.join(out, TEMPORARY, ATTEMPTS), { recursive: true });
    await mkdir(path.join(out, TEMPORARY, COMMITTED), { recursive: true });
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (
      code === 'ENOTDIR' ||
      code === 'EEXIST' ||
      code === 'EACCES' ||
      code === 'EPERM' ||
      code === 'EROFS'
    ) {
      const why =
        code === 'ENOTDIR' || code === 'EEXIST' ? 'a parent of it is a file' : (cause as Error).message;
      throw usageError(`cannot create the output directory ${outDir}: ${why}`, { output: out });
    }
    throw ioError(`cannot create the output directory ${outDir}`, cause, { path: out });
  }
  return { dir: out, replacing: existing !== undefined };
}

/**
 * Undoes {@link prepareOutput} for a job that ends before any task ran: the
 * directory it created is removed; an output being replaced keeps its old
 * entries and loses only `_temporary`.
 * @throws TsmrError `TSMR_IO` when deleting fails.
 */
export async function discardOutput(prepared: PreparedOutput): Promise<void> {
  const target = prepared.replacing ? path.join(prepared.dir, TEMPORARY) : prepared.dir;
  try {
    await rm(target, { recursive: true, force: true, maxRetries: 3 });
  } catch (cause) {
    throw ioError(`cannot remove ${target}`, cause, { path: target });
  }
}

/** Throws a usage error when deleting `out` would delete something the user surely wants. */
async function refuseUnsafeRemoval(outDir: string, out: string, inputs: readonly string[]): Promise<void> {
  const resolvedInputs = inputs.map((i) => path.resolve(i));
  const lexical = { home: homedir(), cwd: process.cwd(), inputs: resolvedInputs };
  const real = {
    home: await realPathOf(lexical.home),
    cwd: await realPathOf(lexical.cwd),
    inputs: await Promise.all(resolvedInputs.map(realPathOf)),
  };
  const why = overwriteRefusal(out, lexical) ?? overwriteRefusal(await realPathOf(out), real);
  if (why !== undefined) {
    throw usageError(`refusing to replace the output directory ${outDir}: ${why}`, { output: out });
  }
}

/**
 * Why deleting the directory `out` to replace it must be refused, or
 * `undefined` when it may be deleted. A pure check on absolute paths (no
 * symbolic-link resolution): refused when `out` is the file-system root, the
 * home directory or one of its ancestors, the current directory or one of its
 * ancestors, or an input path or one of its ancestors. Inputs are compared as
 * paths, so a glob `data/*.txt` protects `data`.
 * @param env.inputs the job's inputs, resolved to absolute paths.
 */
export function overwriteRefusal(
  out: string,
  env: { home: string; cwd: string; inputs: readonly string[] },
): string | undefined {
  if (path.parse(out).root === out) return 'it is the root directory';
  if (env.home === out || isInside(env.home, out)) return 'it is the home directory or contains it';
  if (env.cwd === out || isInside(env.cwd, out)) return 'it is the current directory or contains it';
  for (const input of env.inputs) {
    if (input === out || isInside(input, out)) return `it is or contains the input ${input}`;
  }
  return undefined;
}

/** The real path of `p`, or `p` if it cannot be resolved (missing, glob pattern). */
async function realPathOf(p: string): Promise<string> {
  try {
    return await realpath(p);
  } catch {
    return p;
  }
}

function isInside(child: string, parent: string): boolean {
  return child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);
}

const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Directory where attempt `attempt` of task `taskId` writes its output:
 * `<out>/_temporary/attempts/<taskId>_<attempt>` (absolute). The caller creates it.
 * @throws TsmrError `TSMR_INTERNAL` for a task id that is not a plain name
 *   (letters, digits, `.`, `_`, `-`) or an attempt that is not a non-negative integer.
 */
export function attemptDir(outDir: string, taskId: string, attempt: number): string {
  if (!TASK_ID.test(taskId) || !Number.isSafeInteger(attempt) || attempt < 0) {
    throw new TsmrError(
      ErrorCode.INTERNAL,
      `bad task attempt for output commit: ${taskId} attempt ${attempt}`,
    );
  }
  return path.join(path.resolve(outDir), TEMPORARY, ATTEMPTS, `${taskId}_${attempt}`);
}

function committedDir(outDir: string, taskId: string): string {
  return path.join(committedTaskDir(outDir), taskId);
}

/** `<out>/_temporary/committed`: one directory per committed task until job commit. */
export function committedTaskDir(outDir: string): string {
  return path.join(path.resolve(outDir), TEMPORARY, COMMITTED);
}

/**
 * Commits an attempt: renames its directory to `<out>/_temporary/committed/<taskId>`.
 * An attempt that wrote nothing commits an empty output.
 *
 * @returns true if this attempt is the task's committed attempt (also when it
 *   was already committed by an earlier call); false if another attempt of the
 *   task committed first, in which case this attempt's directory is deleted.
 * @throws TsmrError `TSMR_IO` when the output directory is not prepared (or
 *   was aborted) or a file-system call fails.
 */
export async function commitTask(outDir: string, taskId: string, attempt: number): Promise<boolean> {
  const from = attemptDir(outDir, taskId, attempt);
  const to = committedDir(outDir, taskId);
  try {
    // Not recursive: an aborted job's `_temporary` must not come back.
    await mkdir(from).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    await writeFile(path.join(from, ATTEMPT_MARKER), `${attempt}\n`);
  } catch (cause) {
    throw ioError(`cannot commit ${taskId} attempt ${attempt} in ${outDir}`, cause, { taskId, attempt });
  }
  try {
    await rename(from, to);
    return true;
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') {
      throw ioError(`cannot commit ${taskId} attempt ${attempt} in ${outDir}`, cause, { taskId, attempt });
    }
  }
  // Another attempt won (or this one, on an earlier call).
  const winner = await readFile(path.join(to, ATTEMPT_MARKER), 'utf8').catch(() => '');
  await discardAttempt(outDir, taskId, attempt);
  return winner.trim() === String(attempt);
}

/**
 * Deletes an attempt's directory (a failed, killed or losing attempt). Missing is fine.
 * @throws TsmrError `TSMR_IO` when deleting fails.
 */
export async function discardAttempt(outDir: string, taskId: string, attempt: number): Promise<void> {
  const dir = attemptDir(outDir, taskId, attempt);
  try {
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  } catch (cause) {
    throw ioError(`cannot delete the attempt directory ${dir}`, cause, { path: dir });
  }
}

/**
 * Commits the job: when replacing an old output, first moves its entries
 * (`_SUCCESS` first, so no reader takes a half-swapped directory for a result)
 * into `<out>/_temporary/previous/`; then moves every file of every committed
 * task into `<out>/` (tasks in task-id order, numbers compared by value; files
 * by name; subdirectories merged), writes `report` to `<out>/_job.json`
 * atomically (temporary file, then rename), removes `_temporary` (the old
 * output with it), then creates an empty `<out>/_SUCCESS`, as Hadoop's
 * `FileOutputCommitter.commitJob` does.
 *
 * If any step fails, the files already moved are deleted and the old output is
 * moved back before the error is thrown; call {@link abortJob} next.
 *
 * @param prepared what {@link prepareOutput} returned for this job.
 * @param report the job report (JSON-safe; bigints are written as strings), or a
 *   function that builds it from the output files moved (so it can list them).
 * @returns the absolute paths of the output files moved into `<out>`, in order.
 * @throws TsmrError `TSMR_IO` when a file-system call fails; `TSMR_INTERNAL`
 *   when two tasks wrote a file of the same name.
 */
export async function commitJob(
  prepared: PreparedOutput,
  report: object | ((outputFiles: string[]) => object | Promise<object>),
): Promise<string[]> {
  const out = prepared.dir;
  const committed = path.join(out, TEMPORARY, COMMITTED);
  const previous = path.join(out, TEMPORARY, PREVIOUS);
  const moved: string[] = [];
  const createdDirs: string[] = [];
  const setAside: string[] = [];
  try {
    if (prepared.replacing) await setAsideOldOutput(out, previous, setAside);
    let tasks: string[];
    try {
      tasks = (await readdir(committed)).sort(naturalCompare);
    } catch (cause) {
      throw ioError(`cannot commit the job: ${committed} cannot be read`, cause, { path: committed });
    }
    for (const task of tasks) await moveTree(path.join(committed, task), out, moved, createdDirs);
    const final = typeof report === 'function' ? await report([...moved]) : report;
    await writeJsonAtomically(path.join(out, JOB_REPORT), final);
    try {
      await rm(path.join(out, TEMPORARY), { recursive: true, force: true, maxRetries: 3 });
    } catch (cause) {
      throw ioError(`cannot remove ${path.join(out, TEMPORARY)}`, cause, { path: out });
    }
    try {
      await writeFile(path.join(out, SUCCESS), '');
    } catch (cause) {
      throw ioError(`cannot write ${path.join(out, SUCCESS)}`, cause, { path: out });
    }
  } catch (error) {
    for (const file of moved) await rm(file, { force: true }).catch(() => {});
    for (const dir of createdDirs.reverse()) await rm(dir, { recursive: true, force: true }).catch(() => {});
    await rm(path.join(out, SUCCESS), { force: true }).catch(() => {});
    if (setAside.length > 0) await rm(path.join(out, JOB_REPORT), { force: true }).catch(() => {});
    for (const name of setAside.reverse()) {
      await rename(path.join(previous, name), path.join(out, name)).catch(() => {});
    }
    throw error;
  }
  return moved;
}

/** Moves every entry of `out` but `_temporary` into `previous` (`_SUCCESS` first), recording their names. */
async function setAsideOldOutput(out: string, previous: string, setAside: string[]): Promise<void> {
  try {
    await mkdir(previous, { recursive: true });
    const names = (await readdir(out)).filter((n) => n !== TEMPORARY);
    names.sort((a, b) => Number(b === SUCCESS) - Number(a === SUCCESS));
    for (const name of names) {
      await rename(path.join(out, name), path.join(previous, name));
      setAside.push(name);
    }
  } catch (cause) {
    throw ioError(`cannot move the old output of ${out} aside to replace it`, cause, { path: out });
  }
}

/** Moves the files below `from` into `to`, creating subdirectories as needed. */
async function moveTree(from: string, to: string, moved: string[], createdDirs: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(from, { withFileTypes: true });
  } catch (cause) {
    throw ioError(`cannot read the committed output ${from}`, cause, { path: from });
  }
  entries.sort((a, b) => naturalCompare(a.name, b.name));
  for (const entry of entries) {
    if (entry.name === ATTEMPT_MARKER) continue;
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) {
      if (!(await exists(dst))) {
        try {
          await mkdir(dst);
        } catch (cause) {
          throw ioError(`cannot create ${dst}`, cause, { path: dst });
        }
        createdDirs.push(dst);
      }
      await moveTree(src, dst, moved, createdDirs);
      continue;
    }
    if (await exists(dst)) {
      throw new TsmrError(
        ErrorCode.INTERNAL,
        `cannot commit the job: two tasks wrote the output file ${dst}`,
        {
          details: { path: dst },
        },
      );
    }
    try {
      await rename(src, dst);
    } catch (cause) {
      throw ioError(`cannot move ${src} to ${dst}`, cause, { path: src });
    }
    moved.push(dst);
  }
}

/**
 * Aborts the job's output: removes `<out>/_temporary` (every attempt's and every
 * committed task's output). A new output directory gets `report` as
 * `<out>/_job.json` (with `status: 'failed'` unless `report` has a status) so a
 * person can see why; an output being replaced keeps its old entries,
 * `_job.json` and `_SUCCESS` included, untouched. Does nothing if `<out>`
 * does not exist.
 *
 * Call it only for an output directory that {@link prepareOutput} prepared for
 * this job, and not after {@link commitJob} succeeded.
 *
 * @throws TsmrError `TSMR_IO` when a file-system call fails.
 */
export async function abortJob(prepared: PreparedOutput, report: object): Promise<void> {
  const out = prepared.dir;
  if (!(await exists(out))) return;
  const temporary = path.join(out, TEMPORARY);
  try {
    await rm(temporary, { recursive: true, force: true, maxRetries: 3 });
  } catch (cause) {
    throw ioError(`cannot remove ${temporary}`, cause, { path: temporary });
  }
  if (!prepared.replacing)
    await writeJsonAtomically(path.join(out, JOB_REPORT), { status: 'failed', ...report });
}

/**
 * Replaces `<out>/_job.json` of an output another process wrote (a cluster
 * job's coordinator) with `report`, atomically; `_SUCCESS` is left as it is.
 * @throws TsmrError `TSMR_IO` when it cannot be written.
 */
export async function replaceJobReport(out: string, report: object): Promise<void> {
  await writeJsonAtomically(path.join(out, JOB_REPORT), report);
}

/** Writes `value` as JSON to a temporary file next to `file`, then renames it over `file`. */
async function writeJsonAtomically(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
    await writeFile(tmp, `${text}\n`);
    await rename(tmp, file);
  } catch (cause) {
    await rm(tmp, { force: true }).catch(() => {});
    if (isTsmrError(cause)) throw cause;
    throw ioError(`cannot write ${file}`, cause, { path: file });
  }
}

async function exists(p: string): Promise<boolean> {
  return (await lstatOrUndefined(p)) !== undefined;
}

/** `lstat(p)`, or undefined when `p` does not exist (also when a parent is not a directory). */
async function lstatOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await lstat(p);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw ioError(`cannot read ${p}`, cause, { path: p });
  }
}

/** Compares names with runs of digits compared by value (`r-9` < `r-10`), then as strings. */
function naturalCompare(a: string, b: string): number {
  const re = /(\d+)|(\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const nx = BigInt(x);
      const ny = BigInt(y);
      if (nx !== ny) return nx < ny ? -1 : 1;
    }
    return x < y ? -1 : 1;
  }
  if (pa.length !== pb.length) return pa.length - pb.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
