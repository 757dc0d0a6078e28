/**
 * Side files of a job (Hadoop's distributed cache, `-files`): small files
 * every task can read through `ctx.file(name)`, e.g. the table of a
 * map-side (broadcast) join. They are checked and hashed when the job
 * starts, so that a cluster runtime can ship each once per worker, addressed
 * by its SHA-256 (as job bundles are), and a bad path is a usage error
 * before any task runs.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { usageError } from '../errors.ts';
import type { SideFile } from '../task/messages.ts';
import { ioError } from './io-error.ts';

/**
 * Resolves side-file specs, `path` or `path#name` (Hadoop's `-files` syntax),
 * to {@link SideFile}s: absolute path, name (the base name unless `#name`
 * gives one), size and SHA-256.
 * @throws TsmrError `TSMR_USAGE` when a path is missing or not a regular
 *   file, a name is empty or holds a `/`, or two files get the same name;
 *   `TSMR_IO` when a file cannot be read.
 */
export async function resolveSideFiles(specs: readonly string[]): Promise<SideFile[]> {
  const files: SideFile[] = [];
  for (const spec of specs) {
    const hash = spec.lastIndexOf('#');
    const given = hash < 0 ? spec : spec.slice(0, hash);
    const path = resolve(given);
    const name = hash < 0 ? basename(path) : spec.slice(hash + 1);
    if (name === '' || name.includes('/')) {
      throw usageError(`side file ${spec}: the name after # must be a plain file name, got '${name}'`);
    }
    const st = await stat(path).catch(() => undefined);
    if (st === undefined || !st.isFile()) {
      throw usageError(
        `side file ${given} ${st === undefined ? 'does not exist' : 'is not a regular file'} (--file / files)`,
        { path },
      );
    }
    const twin = files.find((f) => f.name === name);
    if (twin !== undefined) {
      throw usageError(
        `side files ${twin.path} and ${path} are both named '${name}': rename one with path#othername`,
      );
    }
    files.push({ name, path, size: st.size, sha256: await sha256Of(path) });
  }
  return files;
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch (cause) {
    throw ioError(`cannot read the side file ${path}`, cause, { path });
  }
  return hash.digest('hex');
}
