/**
 * TeraSort benchmark (issue 11, item 7; DESIGN.md §7).
 *
 * In one run, on one generated input of N 100-byte records (default
 * 10 000 000 = 1 GB; `TSMR_TERASORT_RECORDS` or the first argument sets N),
 * all cores:
 *  (a) `tsmr teragen N` (its own row);
 *  (b) `tsmr run examples/terasort.ts` (sample, map, shuffle, reduce, commit);
 *  (c) the reference: `LC_ALL=C sort --parallel=<cores> -S <tsmr's peak RSS>`
 *      on the same files, so both get the same memory;
 *  (d) `tsmr teravalidate` of (b)'s output against the input (its own row).
 * Wall times are taken from outside (process start-up included), peak RSS by
 * `/usr/bin/time -f %M` for GNU sort and from `_job.json` for tsmr. The
 * input is read once before (b) and (c), so both find it in the page cache.
 * (b)'s and (c)'s outputs are compared byte for byte. Targets: tsmr ≤ 1.5 ×
 * GNU sort's wall time, peak RSS under 1 GiB.
 *
 *   npx node --conditions=tsmr-source bench/terasort.ts [records]   (or `npm run bench`, which runs every benchmark)
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { JobReport } from '../src/index.ts';
import { repoRoot } from './corpus.ts';

const MiB = 1024 * 1024;

export interface TeraSortBenchRow {
  label: string;
  wallMs: number;
  peakRssBytes?: number;
}

/** Runs a command; resolves with its wall time and output, rejects when it exits non-zero. */
async function timed(file: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const start = performance.now();
  const child = spawn(file, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const [code] = (await once(child, 'close')) as [number | null];
  const wallMs = performance.now() - start;
  if (code !== 0) throw new Error(`${file} ${args.join(' ')} exited ${code}\n${stderr.trim()}`);
  return { wallMs, stdout, stderr };
}

const tsmr = (args: string[]) =>
  timed(process.execPath, ['--conditions=tsmr-source', 'bin/tsmr.js', ...args]);

async function partFiles(dir: string, prefix: string): Promise<string[]> {
  return (await readdir(dir))
    .filter((n) => n.startsWith(prefix))
    .sort()
    .map((n) => join(dir, n));
}

/** Reads files once so that the timed runs find them in the page cache. */
async function warm(files: readonly string[]): Promise<void> {
  for (const f of files) for await (const _chunk of createReadStream(f, { highWaterMark: 4 * MiB }));
}

/** True when `parts` concatenated equal `file`, byte for byte (`cat | cmp`). */
async function sameBytes(parts: readonly string[], file: string): Promise<boolean> {
  const script = 'f=$1; shift; cat "$@" | cmp -s - "$f"';
  return timed('sh', ['-c', script, 'sh', file, ...parts]).then(
    () => true,
    () => false,
  );
}

function row(cells: string[]): string {
  const widths = [44, 9, 13];
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' ');
}

/** Runs the benchmark and prints its rows; returns them (a failed step is reported and ends the run). */
export async function main(recordsArg?: string): Promise<TeraSortBenchRow[]> {
  const records = Number(recordsArg ?? process.env.TSMR_TERASORT_RECORDS ?? 10_000_000);
  const cores = availableParallelism();
  const root = join(repoRoot, '.bench', 'terasort');
  const input = join(root, 'in');
  const output = join(root, 'out');
  const sorted = join(root, 'sorted-by-gnu-sort');
  console.log(
    `\n## TeraSort of ${records.toLocaleString('en')} records (${(records * 100) / 1e9} GB), ${cores} cores\n`,
  );
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  const rows: TeraSortBenchRow[] = [];
  try {
    const gen = await tsmr(['teragen', String(records), input]);
    rows.push({ label: `tsmr teragen (${cores} threads)`, wallMs: gen.wallMs });
    const inputFiles = await partFiles(input, 'part-m-');
    await warm(inputFiles);

    const run = await tsmr(['run', 'examples/terasort.ts', '--input', input, '--output', output, '--quiet']);
    const report = JSON.parse(await readFile(join(output, '_job.json'), 'utf8')) as JobReport;
    rows.push({
      label: `tsmr run examples/terasort.ts (${cores} workers)`,
      wallMs: run.wallMs,
      peakRssBytes: report.peakRssBytes,
    });

    const memory = `${Math.ceil(report.peakRssBytes / MiB)}M`;
    await warm(inputFiles);
    const sort = await timed(
      '/usr/bin/time',
      ['-f', '%M', 'sort', `--parallel=${cores}`, '-S', memory, '-T', root, '-o', sorted, ...inputFiles],
      { ...process.env, LC_ALL: 'C' },
    );
    const sortRss = Number(sort.stderr.trim().split('\n').at(-1)) * 1024;
    rows.push({
      label: `LC_ALL=C sort --parallel=${cores} -S ${memory}`,
      wallMs: sort.wallMs,
      peakRssBytes: sortRss,
    });

    const validate = await tsmr(['teravalidate', output, '--input', input]);
    rows.push({ label: 'tsmr teravalidate (output and input)', wallMs: validate.wallMs });

    console.log(row(['run', 'wall s', 'peak RSS MiB']));
    for (const r of rows) {
      const rss = r.peakRssBytes === undefined ? '-' : (r.peakRssBytes / MiB).toFixed(0);
      console.log(row([r.label, (r.wallMs / 1000).toFixed(1), rss]));
    }
    const phases = report.phases;
    console.log(
      `(tsmr phases: sample ${((phases.sample?.durationMs ?? 0) / 1000).toFixed(2)} s, ` +
        `map ${((phases.map?.durationMs ?? 0) / 1000).toFixed(1)} s, reduce ${((phases.reduce?.durationMs ?? 0) / 1000).toFixed(1)} s)`,
    );
    const same = await sameBytes(await partFiles(output, 'part-r-'), sorted);
    console.log(
      same ? 'outputs: tsmr and GNU sort byte-identical' : 'MISMATCH: tsmr and GNU sort outputs differ',
    );
    const ratio = run.wallMs / sort.wallMs;
    console.log(
      `tsmr / GNU sort, wall time: ${ratio.toFixed(2)} (target <= 1.5) ${ratio <= 1.5 ? 'ok' : 'MISSED'}`,
    );
    const rssOk = report.peakRssBytes < 1024 * MiB;
    console.log(
      `tsmr peak RSS: ${(report.peakRssBytes / MiB).toFixed(0)} MiB (target < 1024) ${rssOk ? 'ok' : 'MISSED'}\n`,
    );
  } catch (error) {
    console.log(`FAILED: ${(error as Error).message}`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  return rows;
}

if (import.meta.main) await main(process.argv[2]);
