/**
 * The dashboard's HTML: the live page (script and style sheet from the
 * server) and the self-contained report page (script, style sheet and the
 * state inline: one file, readable offline).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { DashboardAssets } from './assets.ts';
import type { DashboardState } from './model.ts';

/** Headers of every dashboard response: no caching, no framing, no referrer, nothing but our own files. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** Text for HTML (element content and quoted attribute values). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function shell(title: string, head: string, body: string): string {
  return (
    '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n<link rel="icon" href="data:,">\n' +
    `<title>${escapeHtml(title)}</title>\n${head}\n</head>\n<body>\n` +
    '<div id="app"><p>Loading…</p></div>\n<noscript>The dashboard needs JavaScript.</noscript>\n' +
    `${body}\n</body>\n</html>\n`
  );
}

/** The live page: everything it needs comes from URLs relative to it (`app.css`, `app.js`, `events`). */
export function livePage(): string {
  return shell(
    'tsmr dashboard',
    '<link rel="stylesheet" href="app.css">\n<script src="app.js" defer></script>',
    '',
  );
}

/**
 * One HTML file holding `state` and the front end: no network, no other
 * file. Its Content-Security-Policy allows only its own inline script and
 * style sheet (by hash) and no connection at all.
 */
export function reportPage(title: string, state: DashboardState, assets: DashboardAssets): string {
  // In a script element only `</script` (and `<!--`) matter; escaping every `<` covers both.
  const data = JSON.stringify(state).replace(/</g, '\\u003c');
  const js = assets.js.replace(/<\/(script)/gi, '<\\/$1');
  const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
  const csp =
    `default-src 'none'; script-src ${hash(js)}; style-src ${hash(assets.css)}; img-src data:; ` +
    "base-uri 'none'; form-action 'none'";
  return shell(
    title,
    `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">\n<style>${assets.css}</style>`,
    `<script type="application/json" id="tsmr-data">${data}</script>\n<script>${js}</script>`,
  );
}
