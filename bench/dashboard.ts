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
 * Then the same job on a coordinator and {@link CLUSTER_WORKERS} workers of one
 * slot (this machine), submitted with `runJob(job, { coordinator })`:
 *  (e) no browser on its dashboard;
 *  (f) 20 tabs logged in to the coordinator's dashboard (one in front on the
 *      overview, nineteen in the background), open before the job is
 *      submitted: what "a job with 20 open dashboard tabs" costs where tabs
 *      can be open before a job, with nothing loading inside its time.
 * A local run's dashboard exists only once the run has started, so in (c)
 * the twenty pages load inside the job's time, and that load is most of
 * what the tabs cost there (docs/dashboard.md).
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
import { type JobReport, runJob } from '../src/index.ts';
import { CLUSTER_TOKEN, TestCluster } from '../test/support/cluster.ts';
import { ensureBenchFile, GiB, repoRoot } from './corpus.ts';

/** Runs of each configuration (`TSMR_DASHBOARD_REPEATS`, default 3). */
const REPEATS = Number(process.env.TSMR_DASHBOARD_REPEATS ?? 3);
const TABS = 20;
const CHROMIUM = '/usr/bin/chromium';
/** Worker processes of the coordinator rows, one slot each: one per core. */
const CLUSTER_WORKERS = availableParallelism();

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

/**
 * `TABS` tabs of one browser profile on the overview of the coordinator at
 * `url`, logged in with the cluster token, one in front: opened before the job.
 */
async function coordinatorTabs(browser: Browser, url: string): Promise<() => Promise<void>> {
  const context = await browser.newContext();
  const login = await context.newPage();
  await login.goto(`${url}/`);
  await login.fill('#token', CLUSTER_TOKEN);
  await login.click('button[type=submit]');
  await login.locator('table.workers').waitFor();
  for (let i = 1; i < TABS; i++) {
    const page = await context.newPage();
    await page.addInitScript(inBackground);
    await page.goto(`${url}/`);
  }
  await login.locator('#connection', { hasText: 'live' }).waitFor();
  return () => context.close();
}

/** Runs the job on `cluster`; its own time and chromium's CPU meanwhile. */
async function clusterJob(cluster: TestCluster, input: string): Promise<Run> {
  const output = join(repoRoot, '.bench', 'out', 'dashboard-cluster');
  const cpuBefore = await browserCpuSeconds();
  const handle = runJob(join(repoRoot, 'examples/wordcount.ts'), {
    coordinator: cluster.url,
    token: CLUSTER_TOKEN,
    input,
    output,
    overwrite: true,
  });
  const report = await handle.done;
  return { ms: report.durationMs, browserCpu: cpuUsed(cpuBefore, await browserCpuSeconds()) };
}

/** Rows (e) and (f), interleaved, on one cluster started for them. */
async function coordinatorRows(browser: Browser, input: string): Promise<{ none: Run[]; tabs: Run[] }> {
  const cluster = new TestCluster({ workers: CLUSTER_WORKERS, slots: 1, heartbeatIntervalMs: 2000 });
  const none: Run[] = [];
  const tabs: Run[] = [];
  try {
    await cluster.start();
    for (let i = 0; i < REPEATS; i++) {
      none.push(await clusterJob(cluster, input));
      const close = await coordinatorTabs(browser, cluster.url);
      try {
        tabs.push(await clusterJob(cluster, input));
      } finally {
        await close();
      }
    }
  } finally {
    await cluster.stop();
  }
  return { none, tabs };
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

const fastest = (runs: readonly Run[]): number => Math.min(...runs.map((r) => r.ms));

function median(runs: readonly Run[]): number {
  const ms = runs.map((r) => r.ms).sort((a, b) => a - b);
  return (ms[(ms.length - 1) >> 1]! + ms[ms.length >> 1]!) / 2;
}

/** Prints one row of the table: the fastest run, its ratio to `none`'s, chromium's CPU per run (or "-"), every run. */
function printRow(label: string, runs: readonly Run[], none: readonly Run[], withBrowser: boolean): void {
  const all = runs.map((r) => (r.ms / 1000).toFixed(1)).join(', ');
  const cpu = withBrowser ? runs.map((r) => r.browserCpu.toFixed(1)).join(', ') : '-';
  const ratio = fastest(runs) / fastest(none);
  console.log(
    `${label.padEnd(36)} ${(fastest(runs) / 1000).toFixed(1).padStart(7)} ${ratio.toFixed(3).padStart(8)}  ${cpu.padEnd(18)} ${all}`,
  );
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
  let coordinator: { none: Run[]; tabs: Run[] } | undefined;
  try {
    for (let i = 0; i < REPEATS; i++) {
      for (const [name, open] of configs)
        times.set(name, [...(times.get(name) ?? []), await job(input, open)]);
    }
    if (browser) coordinator = await coordinatorRows(browser, input);
  } finally {
    await browser?.close();
    blank.close();
  }
  const runsOf = (name: Watchers): Run[] => times.get(name) ?? [];
  const label: Record<Watchers, string> = {
    none: 'no dashboard',
    streams: `--dashboard, ${TABS} event streams`,
    front: `--dashboard, ${TABS} tabs, 1 in front`,
    all: `--dashboard, ${TABS} tabs, all drawing`,
  };
  console.log(
    `${'run'.padEnd(36)} ${'best s'.padStart(7)} ${'vs none'.padStart(8)}  ${'browser CPU s/run'.padEnd(18)} all runs, s`,
  );
  for (const [name] of configs)
    printRow(label[name], runsOf(name), runsOf('none'), name === 'front' || name === 'all');
  console.log(
    `(1 GiB, ${availableParallelism()} workers; the job's own time; fastest of ${REPEATS} interleaved runs; ` +
      `load average at the end ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')})`,
  );
  for (const [name] of configs.filter(([n]) => n === 'streams' || n === 'front')) {
    const ratio = fastest(runsOf(name)) / fastest(runsOf('none'));
    console.log(
      `${label[name]} / none: ${ratio.toFixed(3)} (target <= 1.05) ${ratio <= 1.05 ? 'ok' : 'MISSED'}`,
    );
  }
  if (coordinator === undefined) return;
  console.log(
    `\ncoordinator and ${CLUSTER_WORKERS} workers × 1 slot, job submitted with runJob({ coordinator }):`,
  );
  printRow('no browser', coordinator.none, coordinator.none, true);
  printRow(`${TABS} tabs open before the job, 1 in front`, coordinator.tabs, coordinator.none, true);
  const ratio = fastest(coordinator.tabs) / fastest(coordinator.none);
  console.log(
    `coordinator, ${TABS} open tabs / none: ${ratio.toFixed(3)} (target <= 1.05) ${ratio <= 1.05 ? 'ok' : 'MISSED'}`,
  );
  console.log(
    `medians instead of fastest runs: local ${TABS} tabs 1 in front / none ` +
      `${(median(runsOf('front')) / median(runsOf('none'))).toFixed(3)}, coordinator ` +
      `${TABS} open tabs / none ${(median(coordinator.tabs) / median(coordinator.none)).toFixed(3)}`,
  );
  // Wall times of one configuration spread by 10-20% on a small VM, more than the target; the CPU
  // the browser took from the job's cores is steadier: its share of them is what the tabs can cost.
  const share = (runs: Run[]) =>
    Math.max(...runs.map((r) => r.browserCpu / ((availableParallelism() * r.ms) / 1000)));
  console.log(
    `browser CPU / (cores × job time), largest of the runs: local ${TABS} tabs 1 in front ` +
      `${(100 * share(runsOf('front'))).toFixed(1)}%, coordinator ${TABS} open tabs ` +
      `${(100 * share(coordinator.tabs)).toFixed(1)}%`,
  );
}

if (import.meta.main) await main();
