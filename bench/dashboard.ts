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
 *      installed;
 *  (d) the reference for (c): 20 chromium tabs of a static page (no script,
 *      no connection), what chromium costs for 20 open tabs by itself.
 * Times are the job's own (`_job.json` `durationMs`); "browser CPU" is the
 * CPU time chromium's processes used while the job ran (from /proc).
 *
 *   npx node --conditions=tsmr-source bench/dashboard.ts   (or `npm run bench`)
 *   TSMR_DASHBOARD_REPEATS=2 npx node --conditions=tsmr-source bench/dashboard.ts
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { get } from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { JobReport } from '../src/index.ts';
import { ensureBenchFile, GiB, repoRoot } from './corpus.ts';

/** Runs of each configuration (`TSMR_DASHBOARD_REPEATS`, default 3). */
const REPEATS = Number(process.env.TSMR_DASHBOARD_REPEATS ?? 3);
const TABS = 20;
const CHROMIUM = '/usr/bin/chromium';

type Watchers = 'none' | 'streams' | 'tabs' | 'static';

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

/** A page about as large as the job page, with no script: what a tab costs when nothing changes. */
const STATIC_PAGE = `<!doctype html><title>static</title><h1>static</h1>${'<p>Some text in a paragraph.</p>'.repeat(200)}`;

function tabs(browser: Browser, content: 'job' | 'static'): Opener {
  return async (url) => {
    const page = `${url}#/job/${encodeURIComponent(await jobIdAt(url))}`;
    const pages: Page[] = await Promise.all(Array.from({ length: TABS }, () => browser.newPage()));
    // On a loaded machine a tab may still be loading when the job ends (and its server with it).
    const load = (p: Page) =>
      (content === 'job' ? p.goto(page, { waitUntil: 'commit' }) : p.setContent(STATIC_PAGE)).catch(() => {});
    await Promise.all(pages.map(load));
    return async () => {
      await Promise.all(pages.map((p) => p.close()));
    };
  };
}

/** CPU time (user + system) used so far by each of chromium's processes, s, by pid (Linux /proc; none elsewhere). */
async function browserCpuSeconds(): Promise<Map<string, number>> {
  const ticks = 100; // USER_HZ: 100 on every Linux that Node runs on
  const cpu = new Map<string, number>();
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    if (!/^(chromium|chrome)/.test(comm)) continue;
    const fields = stat.slice(close + 2).split(' ');
    cpu.set(pid, (Number(fields[11]) + Number(fields[12])) / ticks);
  }
  return cpu;
}

/** CPU chromium used between two readings, s (processes that exited in between are left out). */
function cpuUsed(before: Map<string, number>, after: Map<string, number>): number {
  let total = 0;
  for (const [pid, s] of after) total += s - (before.get(pid) ?? 0);
  return total;
}

interface Run {
  ms: number;
  /** CPU chromium used during the run, s. */
  browserCpu: number;
}

async function job(input: string, open: Opener | undefined): Promise<Run> {
  const out = join(repoRoot, '.bench', 'out', 'dashboard');
  const args = ['bin/tsmr.js', 'run', 'examples/wordcount.ts', '-i', input, '-o', out, '--overwrite', '-q'];
  const cpuBefore = await browserCpuSeconds();
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
  const browserCpu = cpuUsed(cpuBefore, await browserCpuSeconds());
  await (
    await close
  )?.();
  if (code !== 0) throw new Error(`tsmr exited ${code}\n${stderr}`);
  const report = JSON.parse(await readFile(join(out, '_job.json'), 'utf8')) as JobReport;
  return { ms: report.durationMs, browserCpu };
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
  if (browser) configs.push(['tabs', tabs(browser, 'job')], ['static', tabs(browser, 'static')]);
  const times = new Map<Watchers, Run[]>();
  try {
    for (let i = 0; i < REPEATS; i++) {
      for (const [name, open] of configs)
        times.set(name, [...(times.get(name) ?? []), await job(input, open)]);
    }
  } finally {
    await browser?.close();
  }
  const best = (name: Watchers) => Math.min(...(times.get(name) ?? []).map((r) => r.ms));
  const label: Record<Watchers, string> = {
    none: 'no dashboard',
    streams: `--dashboard, ${TABS} event streams`,
    tabs: `--dashboard, ${TABS} chromium tabs`,
    static: `${TABS} chromium tabs, static page`,
  };
  console.log(
    `${'run'.padEnd(36)} ${'best s'.padStart(7)} ${'vs none'.padStart(8)}  ${'browser CPU s/run'.padEnd(18)} all runs, s`,
  );
  for (const [name] of configs) {
    const runs = times.get(name) ?? [];
    const all = runs.map((r) => (r.ms / 1000).toFixed(1)).join(', ');
    const cpu =
      name === 'none' || name === 'streams' ? '-' : runs.map((r) => r.browserCpu.toFixed(1)).join(', ');
    const ratio = best(name) / best('none');
    console.log(
      `${label[name].padEnd(36)} ${(best(name) / 1000).toFixed(1).padStart(7)} ${ratio.toFixed(3).padStart(8)}  ${cpu.padEnd(18)} ${all}`,
    );
  }
  console.log(
    `(1 GiB, ${availableParallelism()} workers; the job's own time; fastest of ${REPEATS} interleaved runs; ` +
      `load average at the end ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')})`,
  );
  for (const [name] of configs.slice(1, 3)) {
    const ratio = best(name) / best('none');
    console.log(
      `${label[name]} / none: ${ratio.toFixed(3)} (target <= 1.05) ${ratio <= 1.05 ? 'ok' : 'MISSED'}`,
    );
  }
}

if (import.meta.main) await main();
