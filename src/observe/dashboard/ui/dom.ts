/// <reference lib="dom" />
/**
 * Building DOM nodes from data without HTML: every string becomes a text
 * node, attributes are set one by one, and links may only point inside the
 * page (`#…`). So keys, file names and error messages from a job are shown as
 * text, whatever they contain (`<script>` included). Nothing here uses
 * `innerHTML`.
 *
 * @module
 */

export type Child = Node | string | number | null | undefined | false | readonly Child[];

export interface Props {
  class?: string;
  title?: string;
  /** An in-page link (`#/job/…`); anything else is refused. */
  href?: string;
  id?: string;
  /** `data-*` attributes. */
  data?: Record<string, string>;
  /** Other attributes (`colspan`, `aria-label`…). */
  attrs?: Record<string, string | number>;
  onclick?: (event: MouseEvent) => void;
}

/** An HTML element with `props` and `children` (strings and numbers as text). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props?: Props | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props) applyProps(el, props);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element; `attrs` values are set as attributes (numbers as text). */
export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  append(el, children);
  return el;
}

function applyProps(el: HTMLElement, props: Props): void {
  if (props.class) el.className = props.class;
  if (props.title !== undefined) el.title = props.title;
  if (props.id !== undefined) el.id = props.id;
  if (props.href !== undefined) {
    if (!props.href.startsWith('#')) throw new Error(`only in-page links are allowed: ${props.href}`);
    el.setAttribute('href', props.href);
  }
  for (const [name, value] of Object.entries(props.data ?? {})) el.dataset[name] = value;
  for (const [name, value] of Object.entries(props.attrs ?? {})) el.setAttribute(name, String(value));
  if (props.onclick) el.addEventListener('click', props.onclick);
}

function append(el: Element, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (typeof child === 'string' || typeof child === 'number') el.append(String(child));
    else el.append(child as Node);
  }
}
