/**
 * The dashboard's style sheet (served after uPlot's). A TypeScript string, so
 * that tsc carries it into the built package like any other module.
 *
 * Colours say the same as the text next to them (worker and attempt states
 * are always written out too), so nothing depends on seeing colour.
 *
 * @module
 */
export const dashboardCss = String.raw`
:root {
  --fg: #1f2328; --muted: #656d76; --bg: #ffffff; --panel: #f6f8fa; --line: #d0d7de;
  --map: #2563eb; --reduce: #16a34a; --failed: #dc2626; --killed: #9ca3af; --duplicate: #cbd5e1;
  --alive: #16a34a; --suspect: #d97706; --dead: #dc2626; --excluded: #6b7280; --accent: #7c3aed;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg);
}
body { margin: 0; }
#app { padding: 0 16px 32px; max-width: 1600px; }
nav.top { display: flex; gap: 16px; align-items: baseline; padding: 10px 0; border-bottom: 1px solid var(--line); margin-bottom: 12px; flex-wrap: wrap; }
nav.top a { color: var(--fg); text-decoration: none; }
nav.top a:hover { text-decoration: underline; }
nav.top .brand { font-weight: 700; font-size: 16px; color: var(--accent); }
.connection { margin-left: auto; font-size: 12px; padding: 2px 8px; border-radius: 10px; background: var(--panel); color: var(--muted); }
.connection-live { color: #fff; background: var(--alive); }
.connection-reconnecting { color: #fff; background: var(--suspect); }
.connection-ended { color: #fff; background: var(--excluded); }
h1 { font-size: 20px; margin: 8px 0 2px; }
h2 { font-size: 16px; margin: 22px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 14px; margin: 12px 0 4px; }
a { color: #0969da; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
.muted { color: var(--muted); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { font-weight: 600; background: var(--panel); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.empty { color: var(--muted); text-align: center; }
tbody tr:hover { background: #f0f6ff; }
.badge { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; background: var(--muted); }
.badge-alive, .badge-succeeded, .badge-committed { background: var(--alive); }
.badge-suspect { background: var(--suspect); }
.badge-dead, .badge-failed { background: var(--dead); }
.badge-excluded, .badge-gone, .badge-killed, .badge-cancelled { background: var(--excluded); }
.badge-running { background: var(--map); }
.badge-duplicate { background: var(--duplicate); color: var(--fg); }
.progress { position: relative; display: inline-block; width: 160px; height: 16px; background: var(--panel); border: 1px solid var(--line); border-radius: 3px; vertical-align: middle; overflow: hidden; }
.bar-fill { position: absolute; inset: 0 auto 0 0; background: #93c5fd; }
.progress-label { position: relative; display: block; text-align: center; font-size: 11px; line-height: 16px; font-variant-numeric: tabular-nums; }
.phase { font-weight: 600; }
.phase-map { color: var(--map); }
.phase-reduce { color: var(--reduce); }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; overflow-wrap: anywhere; }
.timeline-box { overflow-x: auto; }
svg.timeline { display: block; font-size: 11px; }
.worker-band { fill: var(--panel); }
.worker-label { font-weight: 600; fill: var(--fg); }
.slot-label { fill: var(--muted); }
.tick { stroke: var(--line); stroke-width: 1; }
.tick-label { fill: var(--muted); }
rect.bar { cursor: pointer; stroke: rgba(0, 0, 0, 0.25); stroke-width: 0.5; }
rect.bar:hover, rect.bar:focus { stroke: var(--fg); stroke-width: 1.5; outline: none; }
.bar.kind-map { fill: var(--map); }
.bar.kind-reduce { fill: var(--reduce); }
.bar.status-running { fill-opacity: 0.45; }
.bar.status-failed { fill: var(--failed); }
.bar.status-killed { fill: var(--killed); }
.bar.status-duplicate { fill: var(--duplicate); }
.bar.speculative { stroke: var(--accent); stroke-width: 2; stroke-dasharray: 3 2; }
.bar.reexecuted { stroke: #111827; stroke-width: 2.5; }
.bar.retry { stroke: #ffffff; stroke-width: 1.5; stroke-dasharray: 2 2; }
.bar.lost { fill: #f59e0b; }
.bar.selected { stroke: #f59e0b; stroke-width: 3; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; margin: 6px 0; font-size: 12px; color: var(--muted); }
.legend-item { display: inline-flex; align-items: center; gap: 4px; }
.attempt-details { border: 1px solid var(--line); border-radius: 6px; padding: 4px 12px; margin-top: 8px; background: #fffdf5; }
.error-chain { margin: 6px 0; }
.error { border-left: 3px solid var(--failed); padding: 2px 10px; margin: 4px 0; background: #fef2f2; }
.error.cause { border-left-color: #fca5a5; margin-left: 16px; }
.error-message, .stack { white-space: pre-wrap; overflow-wrap: anywhere; margin: 2px 0; font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
.stack { color: var(--muted); }
.error-details { font-size: 12px; color: var(--muted); }
ul.validation { list-style: none; padding: 0; }
main.login { max-width: 420px; margin: 64px auto; padding: 0 16px; }
main.login form { display: grid; gap: 8px; margin: 16px 0; }
main.login input { font: inherit; padding: 6px 8px; border: 1px solid var(--line); border-radius: 4px; }
main.login button { font: inherit; padding: 6px 12px; justify-self: start; }
.login-refused { color: #fff; background: var(--dead); padding: 6px 10px; border-radius: 4px; }
ul.validation .ok { color: var(--alive); }
ul.validation .bad { color: var(--failed); font-weight: 600; }
.chart { min-height: 40px; }
`;
