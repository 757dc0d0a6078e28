/**
 * Where tsmr's own modules are at run time, for the paths that the build
 * cannot rewrite (tsc rewrites `import './x.ts'` to `'./x.js'`, but not a URL
 * computed from `import.meta.url`, such as the entry file of a worker thread).
 */
import { extname } from 'node:path';

/**
 * The URL of one of tsmr's modules, named by its source path relative to
 * `base`, with the extension of `base`: `.ts` when tsmr runs from its sources
 * (`src/`, with Node's type stripping), `.js` when it runs from the built
 * package (`dist/`).
 *
 * @param sourcePath Relative path of the module's source, ending with `.ts`
 *   (e.g. `'../../task/worker.ts'`).
 * @param base The caller's `import.meta.url`.
 */
export function ownModuleUrl(sourcePath: string, base: string): URL {
  const url = new URL(sourcePath, base);
  url.pathname = url.pathname.replace(/\.ts$/, extname(new URL(base).pathname));
  return url;
}
