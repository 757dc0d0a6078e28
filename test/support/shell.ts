/**
 * Commands run as a user runs them from a shell, for the tests that follow
 * the README: `npm`, `npx`, `node`, `sh`.
 */
import { execFile } from 'node:child_process';
import { delimiter, dirname } from 'node:path';
import { promisify } from 'node:util';

/**
 * The environment of a user's shell: this test's Node first on the PATH (so
 * that `npm`, `npx` and the `tsmr` command run on it, not on an older `node`
 * of the machine), and none of the `npm_*` variables that `npm test` sets for
 * this repository.
 */
export const userEnv: NodeJS.ProcessEnv = {
  ...Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) && name !== 'INIT_CWD'),
  ),
  PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
};

const exec = promisify(execFile);

/** Runs `file` with `args` in `cwd`; rejects, with the command's output, when it exits non-zero. */
export function runCommand(
  file: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = userEnv,
): Promise<{ stdout: string; stderr: string }> {
  return exec(file, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 });
}
