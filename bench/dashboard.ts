/**
 * What open dashboard pages cost a job (issue 10: a job with 20 open tabs is
 * no more than 5% slower than with none).
 *
 * Word count on the 1 GiB bench file, all cores, in one run, interleaved
 * {@link REPEATS} times, each configuration keeping its fastest run:
 *  (a) `tsmr run` without a dashboard;
 *  (b) `--dashboard` with 20 event streams read by plain HTTP clients in this
 *      process (the server's cost: serializing and writing updates);
 *  (c) `--dashboard` with 20 chromium tabs on the job page (server and
 *      browser together, on the same cores as the job), when chromium is
 *      installed.
 * Times are the job's own (`_job.json` `durationMs`).
 *
 *   npx node --conditions=tsmr-source bench/dashboard.ts   (or `npm run bench`)
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { get } from 'node:http';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { JobReport } from '../src/index.ts';
import { ensureBenchFile, GiB, repoRoot } from './corpus.ts';

const REPEATS = 3;
const TABS = 20;
const CHROMIUM = '/usr/bin/chromium';

type Watchers = 'none' | 'streams' | 'tabs';

/** Opens `TABS` pages on the dashboard at `url`; returns how to close them. */
type Opener = (url: string) => Promise<() => Promise<void>>;

function streams(url: string): Promise<() => Promise<void>> {
  const requests = Array.from({ length: TABS }, () =>
    get(`${url}events`, (res) => res.on('data', () => {}).on('error', () => {})).on('error', () => {}),
  );
  return Promise.resolve(async () => {
    for (const r of requests) r.destroy();
  });
}

/** The id of the job the dashboard at `url` shows, once it has started. */
async function jobIdAt(url: string): Promise<string> {
  for (;;) {
    const state = (await (await fetch(`${url}api/state`)).json()) as {
      jobs: Array<{ start: { jobId: string } }>;
    };
    const jobId = state.jobs[0]?.start.jobId;
    if (jobId !== undefined) return jobId;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function tabs(browser: Browser): Opener {
  return async (url) => {
    const page = `${url}#/job/${encodeURIComponent(await jobIdAt(url))}`;
    const pages: Page[] = await Promise.all(Array.from({ length: TABS }, () => browser.newPage()));
    await Promise.all(pages.map((p) => p.goto(page)));
    return async () => {
      await Promise.all(pages.map((p) => p.close()));
    };
  };
}

async function job(input: string, open: Opener | undefined): Promise<number> {
  const out = join(repoRoot, '.bench', 'out', 'dashboard');
  const args = ['bin/tsmr.js', 'run', 'examples/wordcount.ts', '-i', input, '-o', out, '--overwrite', '-q'];
  const child = spawn(process.execPath, open ? [...args, '--dashboard'] : args, {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let close: Promise<() => Promise<void>> | undefined;
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
    const url = /dashboard at (\S+)/.exec(stderr)?.[1];
    if (url && open && close === undefined) close = open(url);
  });
  const [code] = (await once(child, 'close')) as [number | null];
  await (
    await close
  )?.();
  if (code !== 0) throw new Error(`tsmr exited ${code}\n${stderr}`);
  const report = JSON.parse(await readFile(join(out, '_job.json'), 'utf8')) as JobReport;
  return report.durationMs;
}

export async function main(): Promise<void> {
  console.log(`\n## word count with open dashboard pages (${TABS} each)\n`);
  const input = await ensureBenchFile(GiB);
  let browser: Browser | undefined;
  if (existsSync(CHROMIUM)) {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  } else console.log(`(${CHROMIUM} not installed: no row with browser tabs)`);
  const configs: Array<[Watchers, Opener | undefined]> = [
    ['none', undefined],
    ['streams', streams],
  ];
  if (browser) configs.push(['tabs', tabs(browser)]);
  const times = new Map<Watchers, number[]>();
  try {
    for (let i = 0; i < REPEATS; i++) {
      for (const [name, open] of configs)
        times.set(name, [...(times.get(name) ?? []), await job(input, open)]);
    }
  } finally {
    await browser?.close();
  }
  const best = (name: Watchers) => Math.min(...(times.get(name) ?? [NaN]));
  const label: Record<Watchers, string> = {
    none: 'no dashboard',
    streams: `--dashboard, ${TABS} event streams`,
    tabs: `--dashboard, ${TABS} chromium tabs`,
  };
  console.log(`${'run'.padEnd(36)} ${'best s'.padStart(7)} ${'vs none'.padStart(8)}  all runs, s`);
  for (const [name] of configs) {
    const all = (times.get(name) ?? []).map((ms) => (ms / 1000).toFixed(1)).join(', ');
    const ratio = best(name) / best('none');
    console.log(
      `${label[name].padEnd(36)} ${(best(name) / 1000).toFixed(1).padStart(7)} ${ratio.toFixed(3).padStart(8)}  ${all}`,
    );
  }
  console.log(
    `(1 GiB, ${availableParallelism()} workers; the job's own time; fastest of ${REPEATS} interleaved runs)`,
  );
  for (const [name] of configs.slice(1)) {
    const ratio = best(name) / best('none');
    console.log(
      `${label[name]} / none: ${ratio.toFixed(3)} (target <= 1.05) ${ratio <= 1.05 ? 'ok' : 'MISSED'}`,
    );
  }
}

if (import.meta.main) await main();
