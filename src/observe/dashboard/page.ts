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

/** Headers of the login page: as {@link SECURITY_HEADERS}, and its form may post to its own origin. */
export const LOGIN_HEADERS: Readonly<Record<string, string>> = {
  ...SECURITY_HEADERS,
  'Content-Security-Policy':
    "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
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

/**
 * The coordinator's login form (no script): the cluster token, posted to
 * `login` in the body, never in a URL. `refused`: the last try had a wrong token.
 */
export function loginPage(refused: boolean): string {
  return (
    '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n<link rel="icon" href="data:,">\n' +
    '<title>tsmr dashboard: log in</title>\n<link rel="stylesheet" href="app.css">\n</head>\n<body>\n' +
    '<main class="login">\n<h1>tsmr coordinator</h1>\n' +
    (refused ? '<p class="login-refused" role="alert">Wrong token: not logged in.</p>\n' : '') +
    '<form method="post" action="login">\n<label for="token">Cluster token</label>\n' +
    '<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>\n' +
    '<button type="submit">Log in</button>\n</form>\n' +
    '<p class="muted">The token is the one in the coordinator’s <code>--token-file</code> (or <code>TSMR_TOKEN</code>).</p>\n' +
    '</main>\n</body>\n</html>\n'
  );
}
