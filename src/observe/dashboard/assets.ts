/**
 * The dashboard's front end, bundled on first use: esbuild bundles
 * `ui/main.ts` (or, in the installed package, the `ui/main.js` that tsc
 * built from it) with uPlot into one script, in about 0.1 s, and the result
 * is kept in memory for the life of the process. So nothing is generated or
 * committed, `npm ci` builds nothing, and a clone and the installed package
 * run the same code path (esbuild is a dependency of tsmr for job bundles
 * anyway). The style sheet is uPlot's followed by ours.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { ownModuleUrl } from '../../own-module-url.ts';
import { dashboardCss } from './style.ts';

export interface DashboardAssets {
  /** The front end: one classic script (an IIFE), minified, ending with uPlot's licence. */
  js: string;
  css: string;
}

let assets: Promise<DashboardAssets> | undefined;

/**
 * The bundled front end (built on the first call, then the same promise).
 * @throws whatever esbuild throws if the front end does not build (a bug): the promise is dropped, a later call tries again.
 */
export function dashboardAssets(): Promise<DashboardAssets> {
  assets ??= bundle().catch((error: unknown) => {
    assets = undefined;
    throw error;
  });
  return assets;
}

async function bundle(): Promise<DashboardAssets> {
  const entry = fileURLToPath(ownModuleUrl('./ui/main.ts', import.meta.url));
  const resolve = createRequire(import.meta.url).resolve;
  // uPlot's copyright notice is a plain comment, which minifying drops: the licence goes at the end.
  const licence = (await readFile(resolve('uplot/LICENSE'), 'utf8')).replaceAll('*/', '* /');
  const [result, css] = await Promise.all([
    build({
      entryPoints: [entry],
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      legalComments: 'eof',
      footer: { js: `/*! uPlot (https://github.com/leeoniya/uPlot)\n${licence}*/` },
      write: false,
      outfile: 'app.js',
      logLevel: 'silent',
    }),
    readFile(resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  ]);
  return { js: result.outputFiles[0]!.text, css: `${css}\n${dashboardCss}` };
}
