/**
 * A real browser for tests: Debian's chromium driven by playwright-core
 * (`.ci/run` installs it with apt-get). Tests that need it skip, saying why,
 * only when it is not installed.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Why browser tests cannot run here, or undefined when they can (for `test(…, { skip })`). */
export const noBrowser: string | undefined = existsSync(CHROMIUM)
  ? undefined
  : `chromium is not installed at ${CHROMIUM} (apt-get install chromium): browser tests skipped`;

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/**
 * Saves a screenshot of `page` as `<dir>/<name>.png` when `TSMR_SCREENSHOTS`
 * names a directory (how `docs/img/` is made: see docs/dashboard.md), else
 * does nothing.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.TSMR_SCREENSHOTS;
  if (!dir) return;
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}
