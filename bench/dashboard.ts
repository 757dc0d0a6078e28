/**
 * What open dashboard pages cost a job (issue 10: a job with 20 open tabs is
 * no more than 5% slower than with none).
 *
 * Word count on the 1 GiB bench file, all cores, in one run, interleaved
 * {@link REPEATS} times, each configuration keeping its fastest run:
 *  (a) `tsmr run` without a dashboard;
 *  (b) `--dashboard` with 20 event streams read by plain HTTP clients in this
 *      process (the server's cost: serializing and writing updates, as for
 *      20 viewers on other machines);
 *  (c) `--dashboard` with 20 chromium tabs on the job page as a desktop
 *      browser holds them, on the same cores as the job: one tab in front,
 *      nineteen in the background, where (as Chrome and Firefox do for
 *      hidden tabs) the page is told it is hidden and gets no animation
 *      frames, so it takes in every update but does not draw;
 *  (d) `--dashboard` with 20 chromium tabs that all draw (headless chromium
 *      reports every tab visible): the worst case, reported, not a target.
 * In (c) and (d) the tabs are those of one browser profile (one context), so
 * they share one event stream (`ui/shared-stream.ts`); they are open before
 * the job starts, on a blank page of the same site (127.0.0.1), and go to
 * the job page when the dashboard's address is printed: a tab's renderer process is started once, as for a
 * user whose browser is already running, not inside the job's time. Times
 * are the job's own (`_job.json` `durationMs`); "browser CPU" is the CPU
 * time chromium's processes used while the job ran (from /proc). The
 * targets are checked on (b) and (c).
 *
 *   npx node --conditions=tsmr-source bench/dashboard.ts   (or `npm run bench`)
 *   TSMR_DASHBOARD_REPEATS=2 npx node --conditions=tsmr-source bench/dashboard.ts
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { JobReport } from '../src/index.ts';
import { ensureBenchFile, GiB, repoRoot } from './corpus.ts';

/** Runs of each configuration (`TSMR_DASHBOARD_REPEATS`, default 3). */
const REPEATS = Number(process.env.TSMR_DASHBOARD_REPEATS ?? 3);
const TABS = 20;
const CHROMIUM = '/usr/bin/chromium';

type Watchers = 'none' | 'streams' | 'front' | 'all';

/** What watches a job: made ready before it starts, opened on its dashboard at `url`; returns how to close it. */
interface Watcher {
  before?(): Promise<void>;
  open(url: string): Promise<() => Promise<void>>;
}

const streams: Watcher = {
  open(url) {
    const requests = Array.from({ length: TABS }, () =>
      get(`${url}events`, (res) => res.on('data', () => {}).on('error', () => {})).on('error', () => {}),
    );
    return Promise.resolve(async () => {
      for (const r of requests) r.destroy();
    });
  },
};

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

/**
 * What a desktop browser does to a tab in the background, for the page's
 * purposes: `document.hidden`, and no animation frames (the page draws only
 * in one, `ui/main.ts`).
 */
function inBackground(): void {
  Object.defineProperty(Document.prototype, 'hidden', { get: () => true });
  Object.defineProperty(Document.prototype, 'visibilityState', { get: () => 'hidden' });
  window.requestAnimationFrame = () => 0;
}

/**
 * `TABS` tabs, opened on `blank` (a page of the same site) before the job;
 * with `inFront: 1`, all but the first in the background.
 */
function tabs(browser: Browser, blank: string, inFront: 'one' | 'all'): Watcher {
  let context: BrowserContext | undefined;
  let pages: Page[] = [];
  return {
    async before() {
      // One context: the tabs of one browser profile, which share one event stream (`ui/shared-stream.ts`).
      const tabsContext = await browser.newContext();
      context = tabsContext;
      pages = await Promise.all(
        Array.from({ length: TABS }, async (_, i) => {
          const page = await tabsContext.newPage();
          if (inFront === 'one' && i > 0) await page.addInitScript(inBackground);
          await page.goto(blank);
          return page;
        }),
      );
    },
    async open(url) {
      const target = `${url}#/job/${encodeURIComponent(await jobIdAt(url))}`;
      // On a loaded machine a tab may still be loading when the job ends (and its server with it).
      await Promise.all(pages.map((p) => p.goto(target, { waitUntil: 'commit' }).catch(() => {})));
      return async () => {
        await context?.close();
        pages = [];
      };
    },
  };
}

/** Serves a blank page on 127.0.0.1 (the dashboard's site) until closed. */
async function blankPageServer(): Promise<{ url: string; close(): void }> {
  const server = createServer((_req, res) => res.end('<!doctype html><title>blank</title>'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => server.close() };
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

async function job(input: string, watcher: Watcher | undefined): Promise<Run> {
  const out = join(repoRoot, '.bench', 'out', 'dashboard');
  const args = ['bin/tsmr.js', 'run', 'examples/wordcount.ts', '-i', input, '-o', out, '--overwrite', '-q'];
  await watcher?.before?.();
  const cpuBefore = await browserCpuSeconds();
  const child = spawn(process.execPath, watcher ? [...args, '--dashboard'] : args, {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let close: Promise<() => Promise<void>> | undefined;
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
    const url = /dashboard at (\S+)/.exec(stderr)?.[1];
    if (url && watcher && close === undefined) close = watcher.open(url);
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
  const blank = await blankPageServer();
  const configs: Array<[Watchers, Watcher | undefined]> = [
    ['none', undefined],
    ['streams', streams],
  ];
  if (browser)
    configs.push(['front', tabs(browser, blank.url, 'one')], ['all', tabs(browser, blank.url, 'all')]);
  const times = new Map<Watchers, Run[]>();
  try {
    for (let i = 0; i < REPEATS; i++) {
      for (const [name, open] of configs)
        times.set(name, [...(times.get(name) ?? []), await job(input, open)]);
    }
  } finally {
    await browser?.close();
    blank.close();
  }
  const best = (name: Watchers) => Math.min(...(times.get(name) ?? []).map((r) => r.ms));
  const label: Record<Watchers, string> = {
    none: 'no dashboard',
    streams: `--dashboard, ${TABS} event streams`,
    front: `--dashboard, ${TABS} tabs, 1 in front`,
    all: `--dashboard, ${TABS} tabs, all drawing`,
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
  for (const [name] of configs.filter(([n]) => n === 'streams' || n === 'front')) {
    const ratio = best(name) / best('none');
    console.log(
      `${label[name]} / none: ${ratio.toFixed(3)} (target <= 1.05) ${ratio <= 1.05 ? 'ok' : 'MISSED'}`,
    );
  }
}

if (import.meta.main) await main();
