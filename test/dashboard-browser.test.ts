/**
 * The dashboard in a real browser (chromium), on real jobs run by the real
 * CLI: `tsmr run --dashboard` (the overview lists the workers, progress moves
 * without a reload, an attempt crashed by --simulate-failures is failed on
 * the timeline with its message, file names and keys that look like HTML are
 * text) and the page of `tsmr report --html` (opened from the file, with no
 * request but the file itself).
 *
 * With TSMR_SCREENSHOTS=<dir>, the pages are saved there (docs/img/).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, noBrowser, screenshot } from './support/browser.ts';
import { repoRoot, runCli } from './support/run-cli.ts';

const SCRIPT_KEY = '<script>window.__pwned=2</script>';
/** An input directory named like an element (shown in the settings and in failure messages). */
const HOSTILE_DIR = 'in <img src=x onerror=window.__pwned=1>';

let tmp = '';
let input = '';
let browser: Browser;

before(async () => {
  if (noBrowser) return;
  tmp = mkdtempSync(join(tmpdir(), 'tsmr-dashboard-'));
  input = join(tmp, HOSTILE_DIR);
  mkdirSync(input);
  const lines = (prefix: string, n: number) =>
    Array.from({ length: n }, (_, i) => `${prefix}${i % 7} and more words ${i}\n`).join('');
  writeFileSync(join(input, 'a.txt'), `${SCRIPT_KEY} first\n${lines('alpha', 59)}`);
  writeFileSync(join(input, 'b.txt'), lines('beta', 60));
  writeFileSync(join(input, 'c.txt'), lines('gamma', 60));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Fails the test on a script error or a refused resource in the page. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return errors;
}

/** Nothing from the data ran: no script of ours but the page's own, no handler fired. */
async function assertNothingRan(page: Page, scripts: number): Promise<void> {
  assert.equal(await page.evaluate(() => (window as { __pwned?: unknown }).__pwned), undefined);
  assert.equal(await page.locator('script').count(), scripts);
  assert.equal(await page.locator('#app img').count(), 0);
}

/** In the page: tells it that it is hidden or in front, as a browser does when its tab is switched. */
function setHidden(hidden: boolean): void {
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
  document.dispatchEvent(new Event('visibilitychange'));
}

/**
 * Starts `tsmr run test/fixtures/jobs/html-keys.ts … --dashboard` with `flags`; resolves once it
 * printed the dashboard's address. `stderr()` is what it wrote so far; `exited` its exit code.
 */
async function dashboardRun(
  flags: string[],
): Promise<{ url: string; stderr(): string; exited: Promise<number | null> }> {
  const child = spawn(
    process.execPath,
    [join(repoRoot, 'bin/tsmr.js'), 'run', 'test/fixtures/jobs/html-keys.ts', ...flags, '--dashboard'],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8');
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (s: string) => {
      stderr += s;
      const m = /dashboard at (http:\/\/127\.0\.0\.1:\d+\/\S+\/)/.exec(stderr);
      if (m) resolve(m[1]!);
    });
    child.once('exit', () => reject(new Error(`tsmr exited before printing the URL:\n${stderr}`)));
  });
  return { url, stderr: () => stderr, exited };
}

describe('tsmr run --dashboard', { skip: noBrowser }, () => {
  test('live pages: workers, moving progress, a failed attempt with its message, HTML in data shown as text', async () => {
    const out = join(tmp, 'out-live');
    const { url, stderr, exited } = await dashboardRun([
      ...['-i', input, '-o', out, '-w', '2', '--split-size', '1k', '-p', 'ms=40'],
      ...['--simulate-failures', '0.5'],
    ]);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = watchErrors(page);
    try {
      await page.goto(url);
      await page.evaluate(() => ((window as { __loaded?: number }).__loaded = 1));

      // Overview: the one local worker, alive, with its two slots; the job, running.
      const worker = page.locator('table.workers tbody tr', { hasText: 'local' });
      await worker.waitFor();
      assert.match(await worker.innerText(), /local\s+alive\b.*\/ 2\b/s);
      await page.locator('table.jobs tbody tr', { hasText: 'running' }).waitFor();
      await screenshot(page, 'dashboard-overview');

      // Job page: the map bar moves by server-sent events, with no reload.
      await page.locator('table.jobs a', { hasText: 'html-keys' }).click();
      const mapBar = page.locator('table.phases tbody tr').first().locator('[role=progressbar]');
      const percent = async () => Number(await mapBar.getAttribute('aria-valuenow'));
      await page.waitForFunction(
        () =>
          Number(document.querySelector('table.phases [role=progressbar]')?.getAttribute('aria-valuenow')) >
          0,
      );
      const first = await percent();
      await page.waitForFunction(
        (was) =>
          Number(document.querySelector('table.phases [role=progressbar]')?.getAttribute('aria-valuenow')) >
          was,
        first,
      );

      // A crashed attempt: failed on the timeline; its details carry the message.
      const failed = page.locator('svg.timeline rect.bar.status-failed').first();
      await failed.waitFor();
      await failed.click();
      const details = page.locator('#attempt-details');
      await details.waitFor();
      assert.match(await details.innerText(), /TSMR_INJECTED_FAILURE/);
      assert.match(await details.innerText(), /crashed on purpose \(--simulate-failures\)/);

      // The job ends on the page, still without a reload.
      await page.locator('h1 .badge', { hasText: 'succeeded' }).waitFor({ timeout: 60_000 });
      assert.equal(await page.evaluate(() => (window as { __loaded?: number }).__loaded), 1, 'no reload');

      // The hostile directory name (the settings' inputs) and key (a counter's name) are text.
      await page.locator('table.counters').getByText(`html-keys/${SCRIPT_KEY}`, { exact: true }).waitFor();
      await page.locator('dl.kv dd', { hasText: HOSTILE_DIR }).waitFor();
      assert.equal(await page.locator('dl.kv dd', { hasText: HOSTILE_DIR }).innerText(), input);
      await assertNothingRan(page, 1);
      await page.locator('svg.timeline rect.bar.status-failed').first().click();
      await screenshot(page, 'dashboard-job');

      // Worker page: its attempts and its map outputs.
      await page.locator('nav.top a', { hasText: 'Overview' }).click();
      await page.locator('table.workers a', { hasText: 'local' }).click();
      await page.locator('table.worker-attempts tbody tr').first().waitFor();
      assert.ok((await page.locator('table.map-outputs tbody tr').count()) >= 1);
      await screenshot(page, 'dashboard-worker');
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
      assert.equal(await exited, 0, stderr());
    }
  });
});

describe('tsmr run --dashboard, many tabs', { skip: noBrowser }, () => {
  // A browser opens at most six connections to a host: with an event stream per tab, the seventh
  // tab of one browser would not even load while the others stay open.
  test('eight tabs of one browser share one event stream: all live; closing the reading tab hands it on; a tab in the background takes no updates and catches up in front', async () => {
    const out = join(tmp, 'out-tabs');
    const { url, stderr, exited } = await dashboardRun([
      ...['-i', input, '-o', out, '-w', '2', '--split-size', '1k', '-p', 'ms=200'],
    ]);
    const context = await browser.newContext();
    try {
      const pages: Page[] = [];
      for (let i = 0; i < 8; i++) {
        const page = await context.newPage();
        await page.goto(url, { timeout: 20_000 });
        await page.locator('#connection', { hasText: 'live' }).waitFor({ timeout: 20_000 });
        pages.push(page);
      }
      const running = (p: Page) => p.locator('table.jobs tbody tr', { hasText: 'running' }).waitFor();
      await Promise.all(pages.map(running));
      // The last tab goes to the background (headless chromium has every tab visible: told so by hand).
      const background = pages.pop()!;
      await background.evaluate(setHidden, true);
      // The reading tab (the first holds the lock) closes: another reads on, and the job's end
      // reaches every tab left in front.
      await pages.shift()!.close();
      const succeeded = (p: Page) =>
        p.locator('table.jobs tbody tr', { hasText: 'succeeded' }).waitFor({ timeout: 60_000 });
      await Promise.all(pages.map(succeeded));
      assert.equal(await background.locator('table.jobs tbody tr', { hasText: 'running' }).count(), 1);
      await background.evaluate(setHidden, false);
      await succeeded(background);
    } finally {
      await context.close();
      assert.equal(await exited, 0, stderr());
    }
  });
});

describe('tsmr report --html', { skip: noBrowser }, () => {
  test('one file, opened offline: timeline, the failed attempt with its message as text, counters', async () => {
    const out = join(tmp, 'out-report');
    const run = await runCli([
      'run',
      'test/fixtures/jobs/html-keys.ts',
      ...['-i', input, '-o', out, '-w', '2', '-p', 'refuse=yes', '-q'],
    ]);
    assert.equal(run.code, 0, run.stderr);
    const html = join(out, 'report.html');
    const report = await runCli(['report', join(out, '_job.json'), '--html', html]);
    assert.equal(report.code, 0, report.stderr);
    assert.match(report.stderr, /wrote .*report\.html/);

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = watchErrors(page);
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    try {
      await page.goto(pathToFileURL(html).href);
      await page.locator('svg.timeline').waitFor();
      assert.deepEqual(requests, [pathToFileURL(html).href], 'no request but the file');
      assert.match(await page.locator('#connection').innerText(), /report/);
      const failed = page.locator('svg.timeline rect.bar.status-failed');
      assert.equal(await failed.count(), 1);
      await failed.click();
      const details = page.locator('#attempt-details');
      await details.getByText(`refusing key ${SCRIPT_KEY}`, { exact: true }).waitFor();
      await page.locator('table.counters').getByText(`html-keys/${SCRIPT_KEY}`, { exact: true }).waitFor();
      await assertNothingRan(page, 2);
      await screenshot(page, 'report-html');
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });
});
