/**
 * The coordinator's dashboard in a real browser (chromium), on a real
 * cluster (a `tsmr coordinator` and two `tsmr worker` processes on
 * loopback): the login is required and a wrong token refused (and not
 * logged); after login the overview lists the workers; a running job's
 * progress moves without a reload; a SIGKILLed worker is shown dead within
 * the heartbeat timeout plus 2 s. And `tsmr submit --wait --dashboard
 * --monitor-workers`: the cluster's workers in the terminal table.
 *
 * With TSMR_SCREENSHOTS=<dir>, the pages are saved there (docs/img/).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { runJob } from '../src/index.ts';
import { launchBrowser, noBrowser, screenshot } from './support/browser.ts';
import { CLUSTER_TOKEN, TestCluster } from './support/cluster.ts';
import { repoRoot, runCli } from './support/run-cli.ts';

const HEARTBEAT_MS = 200;
const MISSED = 5;
const WRONG_TOKEN = 'not-the-cluster-token-0123456789';

let tmp = '';
let input = '';
let browser: Browser;
let cluster: TestCluster;

before(async () => {
  if (noBrowser) return;
  tmp = mkdtempSync(join(tmpdir(), 'tsmr-dashboard-cluster-'));
  input = join(tmp, 'in');
  mkdirSync(input);
  for (const name of ['a', 'b', 'c', 'd']) {
    const lines = Array.from({ length: 40 }, (_, i) => `${name}${i % 5} and more words ${i}\n`);
    writeFileSync(join(input, `${name}.txt`), lines.join(''));
  }
  cluster = await new TestCluster({
    workers: 2,
    slots: 1,
    heartbeatIntervalMs: HEARTBEAT_MS,
    missedHeartbeats: MISSED,
  }).start();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await cluster?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}

describe('the coordinator dashboard', { skip: noBrowser }, () => {
  test('login, workers, live progress, a SIGKILLed worker shown dead', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors = watchErrors(page);
    const job = join(tmp, 'job');
    let handle: ReturnType<typeof runJob> | undefined;
    try {
      // The login is required: the page and its event stream are refused without it.
      await page.goto(`${cluster.url}/`);
      assert.match(page.url(), /\/login$/);
      const events = await page.request.get(`${cluster.url}/events`);
      assert.equal(events.status(), 401);
      await screenshot(page, 'cluster-login');

      // A wrong token is refused, and the coordinator's log does not hold it.
      await page.fill('#token', WRONG_TOKEN);
      await page.click('button[type=submit]');
      await page.locator('.login-refused').waitFor();
      assert.match(page.url(), /\/login$/);
      assert.equal((await page.context().cookies()).length, 0);
      assert.match(cluster.coordinator.output(), /dashboard login refused/);
      assert.ok(!cluster.coordinator.output().includes(WRONG_TOKEN), 'the wrong token is not logged');

      // The right one: the overview lists both workers, alive, with their slots.
      await page.fill('#token', CLUSTER_TOKEN);
      await page.click('button[type=submit]');
      for (const id of ['w0', 'w1']) {
        const row = page.locator('table.workers tbody tr', { hasText: id });
        await row.locator('.badge-alive').waitFor();
        assert.match(await row.innerText(), /\b0 \/ 1\b/);
      }
      const [cookie] = await page.context().cookies();
      assert.equal(cookie?.httpOnly, true);
      assert.equal(cookie?.sameSite, 'Strict');
      assert.ok(!cookie.value.includes(CLUSTER_TOKEN));

      // A job runs: its progress moves on its page, without a reload.
      handle = runJob(join(repoRoot, 'test/fixtures/jobs/html-keys.ts'), {
        coordinator: cluster.url,
        token: CLUSTER_TOKEN,
        input,
        output: join(job, 'out'),
        splitSize: 512,
        params: { ms: '25' },
      });
      await page.evaluate(() => ((window as { __loaded?: number }).__loaded = 1));
      await page.locator('table.jobs tbody tr', { hasText: 'running' }).locator('a').first().click();
      // The map phase's percent is above `was` (a function in the page: it closes over nothing).
      const mapAbove = (was: number) =>
        Number(document.querySelector('table.phases [role=progressbar]')?.getAttribute('aria-valuenow')) >
        was;
      await page.waitForFunction(mapAbove, 0, { timeout: 60_000 });
      const bar = page.locator('table.phases [role=progressbar]').first();
      const first = Number(await bar.getAttribute('aria-valuenow'));
      await page.waitForFunction(mapAbove, first, { timeout: 60_000 });
      await page.locator('svg.timeline rect.bar').first().waitFor();
      await screenshot(page, 'cluster-job');

      // A worker SIGKILLed mid-job is shown dead within the heartbeat timeout plus 2 s.
      await page.locator('nav.top a', { hasText: 'Overview' }).click();
      const w1 = page.locator('table.workers tbody tr', { hasText: 'w1' });
      await w1.locator('.badge-alive').waitFor();
      cluster.workers[1]!.child.kill('SIGKILL');
      await w1.locator('.badge-dead').waitFor({ timeout: HEARTBEAT_MS * MISSED + 2000 });
      assert.match(await w1.innerText(), /\bdead\b/);

      // The job still ends, on the page too.
      await handle.done;
      await page.locator('table.jobs tbody tr .badge-succeeded').waitFor({ timeout: 30_000 });
      assert.equal(await page.evaluate(() => (window as { __loaded?: number }).__loaded), 1, 'no reload');
      await screenshot(page, 'cluster-overview');

      await page.locator('table.workers a', { hasText: 'w0' }).click();
      await page.locator('table.worker-attempts tbody tr').first().waitFor();
      await page.locator('dl.kv dt', { hasText: 'map outputs held' }).waitFor();
      await screenshot(page, 'cluster-worker');
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
      await handle?.done.catch(() => {});
    }
  });

  test('tsmr submit --wait --dashboard --monitor-workers: the dashboard URL, the cluster workers in the table', async () => {
    const run = await runCli([
      'submit',
      'test/fixtures/jobs/html-keys.ts',
      ...['-i', input, '-o', join(tmp, 'submit-out'), '--split-size', '512'],
      ...['--coordinator', cluster.url, '--token-file', cluster.tokenFile],
      ...['--wait', '--dashboard', '--monitor-workers'],
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /dashboard at http:\/\/127\.0\.0\.1:\d+\/\S+\//);
    assert.match(run.stderr, /^worker +state +slots +running +done +failed +records\/s +RSS$/m);
    assert.match(run.stderr, /^w0 +alive +[01]\/1 +/m);
    assert.ok(!run.stderr.includes(CLUSTER_TOKEN), 'the token is not printed');
  });
});
