import { createXml as create } from './lazy-libs.js';

/** The slice of the DOM we read; xmlbuilder2's parser returns a standard DOM underneath. */
export interface XmlElement {
  namespaceURI: string | null;
  localName: string;
  getAttribute(name: string): string | null;
  textContent: string | null;
  parentNode: XmlElement | null;
}

const ELEMENT_NODE = 1;

/** Every element of a document, in document order. Throws on malformed XML. */
export function xmlElements(xml: string): XmlElement[] {
  const out: XmlElement[] = [];
  create(xml).each(
    (b) => {
      const node = b.node as unknown as XmlElement & { nodeType: number };
      if (node.nodeType === ELEMENT_NODE) out.push(node);
    },
    false,
    true,
  );
  return out;
}

/** True when `el`'s ancestors (nearest first) have these local names, e.g. ['cputune', 'domain']. */
export function under(el: XmlElement, ...ancestors: string[]): boolean {
  let p = el.parentNode;
  for (const name of ancestors) {
    if (!p || p.localName !== name) return false;
    p = p.parentNode;
  }
  return true;
}
