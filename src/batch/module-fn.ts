/**
 * Item functions named by module and export ({@link ModuleFn}), so that a
 * worker thread can import them.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ErrorCode, TsmrError } from '../errors.ts';
import type { BatchFn, ModuleFn } from './types.ts';

/** True for `{ module, export? }`. */
export function isModuleFn(value: unknown): value is ModuleFn {
  if (typeof value !== 'object' || value === null) return false;
  const m = (value as { module?: unknown }).module;
  return typeof m === 'string' || m instanceof URL;
}

/**
 * The import specifier of `ref.module`: a URL stays as it is; a path
 * (absolute, or starting with `.`) becomes a `file:` URL, relative paths
 * against the current directory; anything else (a package name) is kept.
 */
export function moduleSpecifier(ref: ModuleFn): string {
  const m = ref.module;
  if (m instanceof URL) return m.href;
  if (/^[a-z][a-z0-9+.-]*:/i.test(m) && !/^[a-z]:[\\/]/i.test(m)) return m;
  if (isAbsolute(m) || m.startsWith('.')) return pathToFileURL(resolve(m)).href;
  return m;
}

const cache = new Map<string, Promise<BatchFn<unknown, unknown>>>();

/**
 * Imports `specifier` and returns its export `exportName` (once per thread;
 * later calls share the import).
 * @throws TsmrError `TSMR_BAD_JOB` when the module cannot be imported or the export is not a function.
 */
export function loadModuleFn(specifier: string, exportName = 'default'): Promise<BatchFn<unknown, unknown>> {
  const key = `${specifier}#${exportName}`;
  let loaded = cache.get(key);
  if (loaded === undefined) {
    loaded = importFn(specifier, exportName);
    cache.set(key, loaded);
  }
  return loaded;
}

async function importFn(specifier: string, exportName: string): Promise<BatchFn<unknown, unknown>> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (cause) {
    throw new TsmrError(ErrorCode.BAD_JOB, `cannot import the batch function's module ${specifier}`, {
      cause,
      details: { module: specifier },
    });
  }
  const fn = mod[exportName];
  if (typeof fn !== 'function') {
    throw new TsmrError(
      ErrorCode.BAD_JOB,
      `module ${specifier} has no function export "${exportName}" (found ${typeof fn}); export the item function under that name`,
      { details: { module: specifier, export: exportName } },
    );
  }
  return fn as BatchFn<unknown, unknown>;
}
