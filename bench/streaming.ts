/**
 * Streaming word count benchmark (issue 3; DESIGN.md §7).
 *
 * In one run, on the 1 GiB file of real corpora that `bench/wordcount.ts` uses
 * (`ensureBenchFile`), all cores:
 *  (a) the reference: the module job `examples/wordcount.ts`;
 *  (b) a streaming job with shell tools, Hadoop Streaming's textbook shape:
 *      `tr | awk` mapper printing `word\t1`, the awk summing reducer as
 *      combiner and reducer (`test/fixtures/streaming/wc_*.sh`);
 *  (c) a streaming job whose awk mapper counts words itself (in-mapper
 *      combining), the usual way to make a streaming word count fast.
 * Each row gives wall time (from outside, process start-up included) and the
 * ratio to (a); word totals are checked against (a).
 *
 *   npx node bench/streaming.ts        (or `npm run bench`, which runs every benchmark)
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { JobReport } from '../src/index.ts';
import { ensureBenchFile, GiB, repoRoot, wordCountTotals } from './corpus.ts';

export interface StreamingBenchRun {
  label: string;
  wallMs: number;
  peakRssBytes: number;
  words: number;
  distinct: number;
}

const fixtures = 'test/fixtures/streaming';

/** The shell word count (b): `tr|awk` mapper, the awk reducer also as combiner. Paths relative to the repository. */
export const shellWordCount = [
  '--mapper',
  `./${fixtures}/wc_map.sh`,
  '--combiner',
  `./${fixtures}/wc_reduce.sh`,
  '--reducer',
  `./${fixtures}/wc_reduce.sh`,
];

/** (c)'s mapper: counts the words of its split in an awk array, prints `word\tcount` at the end. */
const countingMapper =
  "LC_ALL=C tr -s ' \\t\\v\\f\\r' '\\n\\n\\n\\n\\n' | " +
  'LC_ALL=C awk \'length($0) > 0 { c[$0]++ } END { for (w in c) print w "\\t" c[w] }\'';

async function tsmrRun(label: string, input: string, job: string[]): Promise<StreamingBenchRun> {
  const out = join(repoRoot, '.bench', 'out', `streaming-${label.replace(/\W+/g, '-')}`);
  const args = ['bin/tsmr.js', 'run', ...job, '--input', input, '--output', out, '--overwrite', '--quiet'];
  const start = performance.now();
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const [code] = (await once(child, 'close')) as [number | null];
  const wallMs = performance.now() - start;
  if (code !== 0) throw new Error(`tsmr ${job.join(' ')} exited ${code}\n${stderr.trim()}`);
  const report = JSON.parse(await readFile(join(out, '_job.json'), 'utf8')) as JobReport;
  const { words, distinct } = await wordCountTotals(out, report.outputFiles);
  return { label, wallMs, peakRssBytes: report.peakRssBytes, words, distinct };
}

function row(cells: string[]): string {
  const widths = [52, 9, 12, 13];
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' ');
}

/** Runs the benchmark and prints its rows; returns the runs (a failed run is reported and left out). */
export async function main(): Promise<StreamingBenchRun[]> {
  const cores = availableParallelism();
  console.log('\n## streaming word count (shell tools) vs the module job, 1 GiB, all cores\n');
  const input = await ensureBenchFile(GiB);
  for await (const _chunk of createReadStream(input, { highWaterMark: 4 << 20 })); // warm the page cache

  const plans: [string, string[]][] = [
    ['module job examples/wordcount.ts', ['examples/wordcount.ts']],
    ['streaming: tr|awk word\\t1, awk combiner + reducer', shellWordCount],
    [
      'streaming: tr|awk counting mapper, awk reducer',
      ['--mapper', countingMapper, '--reducer', `./${fixtures}/wc_reduce.sh`],
    ],
  ];
  const runs: StreamingBenchRun[] = [];
  for (const [label, job] of plans) {
    try {
      runs.push(await tsmrRun(label, input, [...job, '--workers', String(cores)]));
    } catch (error) {
      console.log(`${label}: FAILED: ${(error as Error).message}`);
    }
  }
  const reference = runs.find((r) => r.label.startsWith('module'));
  console.log(row(['run', 'wall s', 'vs module', 'peak RSS MiB']));
  for (const r of runs) {
    const ratio = reference ? `${(r.wallMs / reference.wallMs).toFixed(2)}×` : '-';
    console.log(row([r.label, (r.wallMs / 1000).toFixed(1), ratio, (r.peakRssBytes / 2 ** 20).toFixed(0)]));
    if (reference && (r.words !== reference.words || r.distinct !== reference.distinct)) {
      console.log(
        `MISMATCH: ${r.label} counted ${r.words} words / ${r.distinct} distinct, ` +
          `the module job ${reference.words} / ${reference.distinct}`,
      );
    }
  }
  console.log('(peak RSS: the tsmr process only, not the streaming commands)\n');
  return runs;
}

if (import.meta.main) await main();
