/**
 * Job shipping, client side: a module job becomes one self-contained ES
 * module (a job bundle) that a worker on another machine can import against
 * its own tsmr, addressed by the SHA-256 of its bytes (DESIGN.md §6, §9).
 *
 * esbuild bundles the job module (TypeScript, ESM or CommonJS) with its
 * relative imports and the npm packages it uses, for Node, as one ES module
 * (`--bundle --platform=node --format=esm --external:tsmr`):
 * - `tsmr` and `tsmr/…` stay imports, resolved on the worker to the worker's
 *   own tsmr (`bundle-import.ts`); so does an import of tsmr's entry module by
 *   path (`../src/index.ts`, as the examples of this repository do). A job
 *   that imports any other module of tsmr's own sources is refused: the
 *   bundle would carry a second copy of tsmr.
 * - Node built-ins stay imports. CommonJS packages that `require()` a
 *   built-in get a `require` made by `createRequire(import.meta.url)` at the
 *   top of the bundle (an ES module has none).
 * - The code is not minified, and an inline source map (mappings only, no
 *   sources' text) maps it back to the user's files, so a stack trace on the
 *   worker names the original file and line. Source paths are relative to the
 *   job module's directory under the URL scheme `tsmr-job:`
 *   (`at map (tsmr-job:wordcount.ts:30:5)`, `tsmr-job:../lib/words.ts:3:9`):
 *   they are not files on the worker.
 * - The output is a function of the source files and their layout relative to
 *   the job module's directory only: no absolute path, time or working
 *   directory enters the bytes, so the same code gives the same SHA-256 on
 *   any machine, and a worker keeps one cached copy.
 *
 * What is not shipped: files a job (or a package it uses) reads at run time.
 * In a bundle, `import.meta.url` is the bundle's own URL in the worker's
 * cache (`file:///<workDir>/bundles/<sha256>.mjs`), so
 * `new URL('./stopwords.txt', import.meta.url)` points into the worker's cache
 * directory, where no such file is, and reading it fails there with `ENOENT`;
 * `__dirname` of a bundled CommonJS package is not defined; a dynamic
 * `import(name)` of a computed name is not bundled. Data belongs in the job's
 * input, or (later) in files shipped with `--file`. A static import of a JSON
 * file (`import words from './words.json' with { type: 'json' }`) is bundled.
 * Packages with native addons (`.node` files) cannot be bundled.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Message, Metafile, Plugin } from 'esbuild';
import { ErrorCode, TsmrError } from '../../errors.ts';
import { bundleDigest } from './bundle-digest.ts';
import { BUNDLE_MAX_BYTES } from './rpc-limits.ts';

/** A built job bundle. */
export interface JobBundle {
  /** SHA-256 of `bytes`, 64 lowercase hex digits: the bundle's address. */
  sha256: string;
  /** The bundle: one ES module, UTF-8, with an inline source map. */
  bytes: Uint8Array;
  /** File name of the job module (`wordcount.ts`), as stack traces name it. */
  entryName: string;
}

export interface BundleJobOptions {
  /**
   * Largest bundle accepted, in bytes. Default {@link BUNDLE_MAX_BYTES}
   * (64 MiB), the most an upload may carry (`rpc-limits.ts`): a job's code is
   * far smaller; data belongs in its input.
   */
  maxBytes?: number;
}

/** Oldest Node that tsmr supports (`engines.node` in package.json): the syntax a worker must run. */
const nodeTarget = 'node22.18';

/** An ES module has no `require`; esbuild's `__require` for bundled CommonJS uses this one. */
const requireShim =
  'import { createRequire as __tsmrCreateRequire } from "node:module";\n' +
  'const require = __tsmrCreateRequire(import.meta.url);';

/** tsmr's entry module (`src/index.ts` here, the built entry when installed), by self-reference. */
const tsmrEntry = fileURLToPath(import.meta.resolve('tsmr'));
/** The directory of tsmr's own modules; a job may not bundle any of them. */
const tsmrSourceDir = dirname(tsmrEntry) + sep;

/** Turns an import of tsmr's entry module by relative path into the external `tsmr`. */
const tsmrByPath: Plugin = {
  name: 'tsmr-by-path',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) =>
      resolve(args.resolveDir, args.path) === tsmrEntry ? { path: 'tsmr', external: true } : undefined,
    );
  },
};

/**
 * Bundles the job module `entry` (a path, relative to the working directory,
 * or a `file:` URL) into a {@link JobBundle}.
 *
 * @throws TsmrError `TSMR_BAD_JOB` when the module is missing; when it does not
 *   build (a syntax error, an import that does not resolve…), with esbuild's
 *   messages as `file:line:column: text`; when it imports a module of tsmr's
 *   own sources other than its entry; or when the bundle exceeds
 *   `opts.maxBytes`.
 */
export async function bundleJob(entry: string | URL, opts: BundleJobOptions = {}): Promise<JobBundle> {
  const entryPath = entry instanceof URL || entry.startsWith('file:') ? fileURLToPath(entry) : resolve(entry);
  if (!existsSync(entryPath)) {
    throw new TsmrError(ErrorCode.BAD_JOB, `job module not found: ${String(entry)}`, {
      details: { file: entryPath },
    });
  }
  const entryDir = dirname(entryPath);
  const entryName = basename(entryPath);
  let output: { bytes: Uint8Array; metafile: Metafile };
  try {
    const result = await build({
      entryPoints: [entryPath],
      // Paths in the output (comments, source map) are relative to these two.
      absWorkingDir: entryDir,
      outfile: join(entryDir, `${basename(entryName, extname(entryName))}.bundle.mjs`),
      write: false,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: nodeTarget,
      external: ['tsmr', 'tsmr/*'],
      plugins: [tsmrByPath],
      banner: { js: requireShim },
      sourcemap: 'inline',
      sourceRoot: 'tsmr-job:',
      sourcesContent: false,
      metafile: true,
      logLevel: 'silent',
    });
    output = { bytes: result.outputFiles[0].contents, metafile: result.metafile };
  } catch (error) {
    throw buildError(entryPath, entryDir, error);
  }
  checkNoTsmrCopy(entryPath, entryDir, output.metafile);
  const maxBytes = opts.maxBytes ?? BUNDLE_MAX_BYTES;
  if (output.bytes.length > maxBytes) {
    throw new TsmrError(
      ErrorCode.BAD_JOB,
      `the bundle of job module ${entryPath} is ${mib(output.bytes.length)} MiB, over the limit of ` +
        `${mib(maxBytes)} MiB: ship data as job input rather than in the code`,
      { details: { file: entryPath, bytes: output.bytes.length, maxBytes } },
    );
  }
  return { sha256: bundleDigest(output.bytes), bytes: output.bytes, entryName };
}

function buildError(entryPath: string, entryDir: string, error: unknown): TsmrError {
  const errors = (error as { errors?: Message[] }).errors;
  const lines = Array.isArray(errors)
    ? errors.map((m) => {
        const where =
          m.location && `${resolve(entryDir, m.location.file)}:${m.location.line}:${m.location.column + 1}`;
        return where ? `${where}: ${m.text}` : m.text;
      })
    : [error instanceof Error ? error.message : String(error)];
  return new TsmrError(ErrorCode.BAD_JOB, `cannot bundle job module ${entryPath}:\n  ${lines.join('\n  ')}`, {
    cause: error,
    details: { file: entryPath },
  });
}

/** Refuses a bundle that copied modules of tsmr's sources, naming the job's import that pulled them in. */
function checkNoTsmrCopy(entryPath: string, entryDir: string, metafile: Metafile): void {
  const inTsmr = (input: string): boolean => resolve(entryDir, input).startsWith(tsmrSourceDir);
  for (const [importer, { imports }] of Object.entries(metafile.inputs)) {
    if (inTsmr(importer)) continue;
    const door = imports.find((i) => !i.external && inTsmr(i.path));
    if (door === undefined) continue;
    throw new TsmrError(
      ErrorCode.BAD_JOB,
      `${resolve(entryDir, importer)} imports ${door.original ?? door.path}, a module of tsmr's own sources: ` +
        "import from 'tsmr' instead, so that each worker runs the job against its own tsmr",
      { details: { file: entryPath } },
    );
  }
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}
