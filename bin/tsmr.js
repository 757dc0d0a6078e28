#!/usr/bin/env node
// Entry point of the `tsmr` command.
//
// Installed (under node_modules, where Node does not strip types) it runs the
// built package, `dist/`. In a clone of the repository it runs the TypeScript
// sources, `src/`, with Node's type stripping (Node >= 22.18), so that what
// runs is always what was just edited. Job modules there import tsmr by its
// package name (`import { defineJob } from 'tsmr'`), which resolves to
// `src/index.ts` only under the export condition `tsmr-source`: when Node was
// started without it, this shim runs itself again with it (`process.execve`:
// the same process, replaced), since worker threads inherit Node's options
// but not module hooks. (Windows has no `process.execve`: there a job that
// imports 'tsmr' needs Node started with the condition, as the scripts do.)
//
// First it turns on Node's compile cache: modules compiled (and stripped) in
// an earlier run are reused, which saves about 0.3 s per command.
// NODE_COMPILE_CACHE is set so that worker threads and child processes use
// the same cache.
import module from 'node:module';
import { fileURLToPath } from 'node:url';

const cache = module.enableCompileCache?.();
if (cache?.directory !== undefined) process.env.NODE_COMPILE_CACHE ??= cache.directory;

const self = fileURLToPath(import.meta.url);
if (self.split(/[\\/]/).includes('node_modules')) {
  await import('../dist/cli/main.js');
} else {
  const condition = '--conditions=tsmr-source';
  const sourceReference = import.meta.resolve('tsmr') === import.meta.resolve('../src/index.ts');
  if (!sourceReference && !process.execArgv.includes(condition)) {
    const { argv, execArgv, execPath } = process;
    process.execve?.(execPath, [execPath, ...execArgv, condition, self, ...argv.slice(2)]);
  }
  await import('../src/cli/main.ts');
}
