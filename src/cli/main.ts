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

const commands = [
  await import('./run.ts'),
  await import('./submit.ts'),
  await import('./status.ts'),
  await import('./cancel.ts'),
  await import('./cluster.ts'),
  await import('./report.ts'),
  await import('./batch.ts'),
  await import('./teragen.ts'),
  await import('./teravalidate.ts'),
  await import('./coordinator.ts'),
  await import('./worker.ts'),
];
for (const command of commands) command.register(program);

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
