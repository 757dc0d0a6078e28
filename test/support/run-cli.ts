/**
 * Runs the real `tsmr` CLI in a child process (Node 24: the test runner's own
 * `process.execPath`) and collects its exit code and output.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  /** Process id of the child (for checks on what it left behind). */
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts the real `tsmr` CLI in a child process and returns it at once (for signals and kills). */
export function startCli(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv } = {},
): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(process.execPath, [join(repoRoot, 'bin/tsmr.js'), ...args], {
    cwd: repoRoot,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs the CLI to its end; `env` replaces the environment (default: this process's). */
export async function runCli(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  const child = spawn(process.execPath, [join(repoRoot, 'bin/tsmr.js'), ...args], {
    cwd: options.cwd ?? repoRoot,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  return { pid: child.pid as number, code, signal, stdout, stderr };
}

/** The `part-*` files of an output directory, sorted by name, and their concatenated lines sorted bytewise. */
export function readParts(dir: string): { names: string[]; lines: string[] } {
  const names = readdirSync(dir)
    .filter((f) => f.startsWith('part-'))
    .sort();
  const lines = names
    .flatMap((f) => readFileSync(join(dir, f), 'latin1').split('\n'))
    .filter((l) => l !== '')
    .sort((a, b) => Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1')));
  return { names, lines };
}
