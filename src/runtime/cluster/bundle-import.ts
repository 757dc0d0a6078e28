/**
 * Importing a cached job bundle against the worker's own tsmr.
 *
 * A bundle keeps `import … from "tsmr"` (tsmr is external to it, see
 * `job-bundle.ts`), and the cache directory has no `node_modules/tsmr`, so the
 * bare specifier would not resolve there. A synchronous resolve hook
 * (`module.registerHooks`, Node ≥ 22.15) resolves `tsmr` and `tsmr/…`, when
 * the importer is a file in a bundle cache directory, as tsmr itself would
 * import its own name: through the `exports` of the package this module
 * belongs to (Node's package self-reference). Running from the sources, that
 * is this checkout's `src/index.ts`; installed, it is the package's built
 * entry. The bundle thus gets the same module instances as the task runner
 * that calls it, and no second copy of tsmr. Every other import, and every
 * importer outside the cache directories, resolves as usual.
 *
 * Hooks and source-map support belong to one thread: each worker thread that
 * runs bundled jobs calls {@link installBundleResolution} before it imports
 * one.
 */
import { mkdirSync, realpathSync } from 'node:fs';
import module from 'node:module';
import { resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ErrorCode, TsmrError } from '../../errors.ts';
import { ioError } from '../../io/io-error.ts';

/** `file:` URLs, ending in `/`, of the cache directories this thread resolves `tsmr` for. */
const cacheDirUrls = new Set<string>();

/**
 * Makes this thread resolve `tsmr` to its own tsmr in modules under `cacheDir`
 * (created if missing; symbolic links resolved), and turns on source-mapped
 * stack traces in this thread (`module.setSourceMapsSupport(true)`, unless
 * already on, e.g. by `--enable-source-maps`), so that an error thrown by
 * bundled code names the user's file and line (`tsmr-job:wordcount.ts:30:5`).
 * Source maps apply to modules loaded afterwards, so call this before the
 * first import of a bundle. Idempotent; several cache directories may be
 * installed. With source maps on, reading `error.stack` costs more: job code
 * that creates many errors and reads their stacks gets slower.
 *
 * @throws TsmrError `TSMR_IO` when `cacheDir` cannot be created or resolved.
 */
export function installBundleResolution(cacheDir: string): void {
  let real: string;
  try {
    mkdirSync(cacheDir, { recursive: true });
    real = realpathSync(cacheDir);
  } catch (cause) {
    throw ioError(`cannot open the job bundle cache ${cacheDir}`, cause, { file: cacheDir });
  }
  if (cacheDirUrls.size === 0) {
    module.registerHooks({ resolve: resolveOwnTsmr });
    if (!module.getSourceMapsSupport().enabled) module.setSourceMapsSupport(true);
  }
  cacheDirUrls.add(pathToFileURL(real.endsWith(sep) ? real : real + sep).href);
}

const resolveOwnTsmr: module.ResolveHookSync = (specifier, context, nextResolve) => {
  if ((specifier === 'tsmr' || specifier.startsWith('tsmr/')) && inBundleCache(context.parentURL)) {
    return nextResolve(specifier, { ...context, parentURL: import.meta.url });
  }
  return nextResolve(specifier, context);
};

function inBundleCache(url: string | undefined): boolean {
  if (url === undefined) return false;
  for (const dir of cacheDirUrls) if (url.startsWith(dir)) return true;
  return false;
}

/**
 * Imports the cached bundle at `path` (once per thread; later calls return
 * the same namespace) and returns its module namespace, whose exports are the
 * job module's: `(await loadJobBundle(p)).default` is the job.
 *
 * @throws TsmrError `TSMR_IO` when `path` cannot be read; `TSMR_INTERNAL` when
 *   it is not under a directory given to {@link installBundleResolution} in
 *   this thread; `TSMR_BAD_JOB` when the module fails to load (its top level
 *   throws, or it imports what this machine lacks), with the error as `cause`.
 */
export async function loadJobBundle(path: string): Promise<Record<string, unknown>> {
  let url: string;
  try {
    url = pathToFileURL(realpathSync(resolve(path))).href;
  } catch (cause) {
    throw ioError(`cannot open the job bundle ${path}`, cause, { file: path });
  }
  if (!inBundleCache(url)) {
    throw new TsmrError(
      ErrorCode.INTERNAL,
      `${path} is not in a job bundle cache of this thread: call installBundleResolution(cacheDir) first`,
    );
  }
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (cause) {
    throw new TsmrError(
      ErrorCode.BAD_JOB,
      `cannot load the job bundle ${path}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause, details: { file: path } },
    );
  }
}
