/**
 * The `tsmr` command. Each sub-command lives in its own file in this folder
 * and exports `register(program)`.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { exitCodeFor, ExitCode } from '../errors.ts';
import { reportError } from './report-error.ts';

/** tsmr's own version (not `npm_package_version`, which `npx` sets to the calling project's). */
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const program = new Command('tsmr')
  .description(
    'MapReduce for TypeScript: run map/combine/reduce jobs and batch work on all cores of this machine',
  )
  .version(version)
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

/** Each sub-command's module, by name; loaded on use. */
const commands: Record<string, () => Promise<{ register(program: Command): void }>> = {
  run: () => import('./run.ts'),
  submit: () => import('./submit.ts'),
  status: () => import('./status.ts'),
  cancel: () => import('./cancel.ts'),
  cluster: () => import('./cluster.ts'),
  report: () => import('./report.ts'),
  batch: () => import('./batch.ts'),
  teragen: () => import('./teragen.ts'),
  teravalidate: () => import('./teravalidate.ts'),
  coordinator: () => import('./coordinator.ts'),
  worker: () => import('./worker.ts'),
};
// `tsmr <command> …` loads only that command's module (the cluster's RPC stack costs a local
// `tsmr run` about 0.2 s otherwise); help, a bare `tsmr` or an unknown command load them all.
const named = Object.hasOwn(commands, process.argv[2] ?? '') ? [process.argv[2] as string] : undefined;
for (const name of named ?? Object.keys(commands)) (await commands[name]()).register(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
  } else {
    reportError(error);
    process.exitCode = exitCodeFor(error);
  }
}
