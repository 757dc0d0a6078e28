/// <reference lib="dom" />
/**
 * Updates the page in place: a render builds the page anew (cheap, off the
 * document), and {@link morphChildren} changes the live DOM only where the new
 * one differs (a text, an attribute, an element of another kind). So a
 * render that changes a few numbers costs the browser a few text changes,
 * not a new layout and paint of the whole page (Morphdom's idea, in small).
 *
 * Elements marked with {@link keep} (the chart, the timeline: objects that
 * update themselves) are moved into place as they are, never morphed.
 *
 * @module
 */

const KEPT = new WeakSet<Node>();

/** Marks `el` as one that renders put in place as it is (see the module doc). */
export function keep<T extends Element>(el: T): T {
  KEPT.add(el);
  return el;
}

/** Makes `target`'s children like `next` (nodes built off the document, or kept ones). */
export function morphChildren(target: Node, next: readonly Node[]): void {
  for (let i = 0; i < next.length; i++) {
    const n = next[i]!;
    const o = target.childNodes[i];
    if (o === n) continue;
    if (o === undefined) target.appendChild(n);
    else if (KEPT.has(n) || KEPT.has(o) || !sameKind(o, n)) target.replaceChild(n, o);
    else morph(o, n);
  }
  while (target.childNodes.length > next.length) target.lastChild!.remove();
}

function sameKind(o: Node, n: Node): boolean {
  if (o.nodeType !== n.nodeType) return false;
  if (o.nodeType !== Node.ELEMENT_NODE) return true;
  const [oe, ne] = [o as Element, n as Element];
  return oe.localName === ne.localName && oe.namespaceURI === ne.namespaceURI;
}

function morph(o: Node, n: Node): void {
  if (o.nodeType !== Node.ELEMENT_NODE) {
    if (o.nodeValue !== n.nodeValue) o.nodeValue = n.nodeValue;
    return;
  }
  const [oe, ne] = [o as Element, n as Element];
  for (const { name } of Array.from(oe.attributes)) if (!ne.hasAttribute(name)) oe.removeAttribute(name);
  for (const { name, value } of Array.from(ne.attributes)) {
    if (oe.getAttribute(name) === value) continue;
    // The CSP refuses style attributes set as markup; the CSSOM is allowed.
    if (name === 'style') (oe as HTMLElement).style.cssText = value;
    else oe.setAttribute(name, value);
  }
  morphChildren(oe, Array.from(ne.childNodes));
}
