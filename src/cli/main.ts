/**
 * The `tsmr` command. Each sub-command lives in its own file in this folder
 * and exports `register(program)`.
 */
import { Command, CommanderError } from 'commander';
import { exitCodeFor, ExitCode } from '../errors.ts';
import { reportError } from './report-error.ts';

const program = new Command('tsmr')
  .description(
    'MapReduce for TypeScript: run map/combine/reduce jobs and batch work on all cores of this machine',
  )
  .version(process.env.npm_package_version ?? '0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

const commands = [await import('./run.ts'), await import('./batch.ts')];
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
