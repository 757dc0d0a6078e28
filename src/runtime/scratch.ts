/**
 * A job's scratch directory (`<tmp>/tsmr-<jobId>/`: spilled runs, map outputs,
 * spooled input, results) and the removal of the ones that a killed process
 * left behind.
 *
 * Each scratch directory holds an owner file, `owner.json` (`{ pid, host,
 * startedAt }`), written as soon as the directory is made. A process that dies
 * without cleaning up (SIGKILL, a second Ctrl-C, `process.exit` in a job, a
 * crash) leaves its directory; the next job started on the same machine with
 * the same temporary root removes every `tsmr-job-*` directory whose owner
 * process is gone, as Hadoop's NodeManager deletes the directories of
 * containers that no longer run. A directory whose owner file is missing
 * (its process died between `mkdir` and the write) is removed once it is an
 * hour old. A directory of a live process, or of another host (a shared
 * temporary directory), is never touched.
 */
import { hostname } from 'node:os';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ioError } from '../io/io-error.ts';

const PREFIX = 'tsmr-job-';
const OWNER_FILE = 'owner.json';
/** A scratch directory without an owner file is taken as abandoned after this long. */
const UNOWNED_GRACE_MS = 60 * 60 * 1000;

interface Owner {
  pid: number;
  host: string;
  startedAt: number;
}

/** The scratch directory of job `jobId` under `tmpRoot` (not created). */
export function scratchDirOf(tmpRoot: string, jobId: string): string {
  return join(tmpRoot, `tsmr-${jobId}`);
}

/**
 * Creates the scratch directory and its owner file.
 * @throws TsmrError `TSMR_IO` when it cannot be created.
 */
export async function createScratchDir(dir: string): Promise<void> {
  const owner: Owner = { pid: process.pid, host: hostname(), startedAt: Date.now() };
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, OWNER_FILE), `${JSON.stringify(owner)}\n`);
  } catch (cause) {
    throw ioError(`cannot create the scratch directory ${dir}`, cause, { path: dir });
  }
}

/**
 * Removes the scratch directories under `tmpRoot` whose owner process on this
 * host has ended. Never throws: a directory that cannot be read or removed is
 * left for the next time.
 * @param now the current time in epoch ms (for the age of unowned directories).
 * @returns the directories removed.
 */
export async function removeAbandonedScratchDirs(tmpRoot: string, now: number): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(tmpRoot)).filter((n) => n.startsWith(PREFIX));
  } catch {
    return [];
  }
  const removed: string[] = [];
  const host = hostname();
  for (const name of names) {
    const dir = join(tmpRoot, name);
    try {
      const owner = await readOwner(dir);
      const abandoned =
        owner === undefined
          ? now - (await stat(dir)).mtimeMs > UNOWNED_GRACE_MS
          : owner.host === host && owner.pid !== process.pid && !isAlive(owner.pid);
      if (!abandoned) continue;
      await rm(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // Gone already, or not ours to read: leave it.
    }
  }
  return removed;
}

async function readOwner(dir: string): Promise<Owner | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, OWNER_FILE), 'utf8');
  } catch {
    return undefined;
  }
  let o: Partial<Owner> | null;
  try {
    o = JSON.parse(text) as Partial<Owner> | null;
  } catch {
    return undefined;
  }
  if (!Number.isSafeInteger(o?.pid) || typeof o?.host !== 'string') return undefined;
  return o as Owner;
}

/** True if a process with this pid exists (`kill(pid, 0)`: EPERM means it exists but is not ours). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
