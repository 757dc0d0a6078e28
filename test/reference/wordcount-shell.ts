/**
 * Reference word count with `LC_ALL=C` POSIX tools, independent of tsmr:
 *
 *   xargs -0 sed -s '$a\'            the files, each ending with a newline (so the
 *                                     last word of a file never joins the next file's first)
 *   | tr -s ' \t\n\v\f\r' '\n'      one word per line
 *   | awk '$0 != "" { c[$0]++ } END { for (w in c) print w "\t" c[w] }'
 *   | sort
 *
 * In the C locale every tool works on bytes, so this counts exact byte strings
 * split on ASCII whitespace.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';

const pipeline = [
  `xargs -0 sed -s -e '$a\\'`,
  `tr -s ' \\t\\n\\v\\f\\r' '\\n'`,
  `awk '$0 != "" { c[$0]++ } END { for (w in c) print w "\\t" c[w] }'`,
  `sort`,
].join(' | ');

/**
 * Counts the words of `files`.
 * @returns `word\tcount\n` lines sorted by `LC_ALL=C sort` (bytes).
 */
export async function shellWordCount(files: readonly string[]): Promise<Buffer> {
  return runShell(pipeline, Buffer.from(files.map((f) => `${f}\0`).join('')));
}

/** Sorts the lines of `files` (concatenated) with `LC_ALL=C sort`. */
export async function sortedLines(files: readonly string[]): Promise<Buffer> {
  return runShell(`xargs -0 cat | sort`, Buffer.from(files.map((f) => `${f}\0`).join('')));
}

async function runShell(script: string, stdin: Buffer): Promise<Buffer> {
  const child = spawn('sh', ['-c', `set -e; ${script}`], {
    env: { ...process.env, LC_ALL: 'C' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
  child.stdin.end(stdin);
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`reference pipeline exited ${code}: ${Buffer.concat(err).toString()}`);
  return Buffer.concat(out);
}
