/// <reference lib="dom" />
/**
 * Small pieces the pages are made of: tables, state badges, progress bars,
 * key/value lists, errors with their causes and stacks, times.
 *
 * @module
 */
import type { SerializedError } from '../../../errors.ts';
import { type Child, h } from './dom.ts';

/** A table with a header row; `numeric[i]` right-aligns column i. Empty: one row saying `empty`. */
export function table(
  headers: readonly string[],
  rows: readonly (readonly Child[])[],
  options: { numeric?: readonly boolean[]; empty?: string; class?: string } = {},
): HTMLTableElement {
  const cls = (i: number) => (options.numeric?.[i] ? 'num' : undefined);
  const body =
    rows.length === 0
      ? [
          h(
            'tr',
            null,
            h('td', { class: 'empty', attrs: { colspan: headers.length } }, options.empty ?? 'none'),
          ),
        ]
      : rows.map((cells) =>
          h(
            'tr',
            null,
            cells.map((c, i) => h('td', { class: cls(i) }, c)),
          ),
        );
  return h(
    'table',
    { class: options.class },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        headers.map((t, i) => h('th', { class: cls(i) }, t)),
      ),
    ),
    h('tbody', null, body),
  );
}

/** A coloured badge whose text says the same as its colour (`alive`, `failed`…). */
export function badge(text: string): HTMLSpanElement {
  return h('span', { class: `badge badge-${text}` }, text);
}

/** A bar filled to `fraction` (0..1), with the percent as text. */
export function progressBar(fraction: number, label = `${Math.floor(fraction * 100)}%`): HTMLElement {
  const bar = h('span', { class: 'bar-fill' });
  bar.style.width = `${Math.round(Math.min(1, Math.max(0, fraction)) * 100)}%`;
  return h(
    'span',
    { class: 'progress', attrs: { role: 'progressbar', 'aria-valuenow': Math.floor(fraction * 100) } },
    bar,
    h('span', { class: 'progress-label' }, label),
  );
}

/** A definition list of label/value pairs (undefined values are left out). */
export function keyValues(pairs: ReadonlyArray<readonly [string, Child]>): HTMLDListElement {
  return h(
    'dl',
    { class: 'kv' },
    pairs.filter(([, v]) => v !== undefined).map(([k, v]) => [h('dt', null, k), h('dd', null, v)]),
  );
}

export function section(title: string, ...children: Child[]): HTMLElement {
  return h('section', null, h('h2', null, title), ...children);
}

/** Keys of the `<details>` the user opened: a re-render opens them again. */
const openDetails = new Set<string>();

/** A `<details>` that stays open across re-renders once opened; `key` names it on the page. */
export function disclosure(key: string, summary: string, ...children: Child[]): HTMLDetailsElement {
  const el = h('details', null, h('summary', null, summary), ...children);
  el.open = openDetails.has(key);
  el.addEventListener('toggle', () => (el.open ? openDetails.add(key) : openDetails.delete(key)));
  return el;
}

/** An error, its code, message and stack, then each cause the same way; `key` names it on the page. */
export function errorBlock(error: SerializedError, key: string): HTMLElement {
  const parts: HTMLElement[] = [];
  for (let e: SerializedError | undefined = error, depth = 0; e && depth < 9; e = e.cause, depth++) {
    parts.push(
      h(
        'div',
        { class: depth === 0 ? 'error' : 'error cause' },
        h('div', { class: 'error-head' }, depth > 0 ? 'caused by ' : '', h('b', null, e.code ?? e.name)),
        h('pre', { class: 'error-message' }, e.message),
        e.details ? h('div', { class: 'error-details' }, detailsText(e.details)) : null,
        e.stack ? disclosure(`${key}/${depth}`, 'stack', h('pre', { class: 'stack' }, e.stack)) : null,
      ),
    );
  }
  return h('div', { class: 'error-chain' }, parts);
}

function detailsText(details: Record<string, unknown>): string {
  return Object.entries(details)
    .filter(([, v]) => v !== undefined && typeof v !== 'object')
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join(' · ');
}

const times = new Intl.DateTimeFormat('en-GB', {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
});

/** `14:03:07` (local time of the browser; one formatter for all: building one per call is slow). */
export function clock(t: number): string {
  return times.format(t);
}
