import type { Node } from 'yaml';
import type { Diagnostic } from './diagnostics.js';
import { yamlLib } from './lazy-libs.js';

export interface Position {
  line: number;
  column: number;
}

/** A parsed YAML file: its plain value plus where every value and key was written. */
export interface YamlSource {
  file: string;
  value: unknown;
  /** Dotted path -> position of the value (`''` is the document itself). */
  values: Record<string, Position>;
  /** Dotted path -> position of the key that introduced it (maps only). */
  keys: Record<string, Position>;
  /** YAML syntax errors (bad indentation, duplicate keys...), located. */
  errors: Diagnostic[];
}

export function joinPath(parent: string, key: string | number): string {
  return parent === '' ? String(key) : `${parent}.${key}`;
}

/** Parse with positions; `uniqueKeys` makes a repeated key a syntax error rather than last-wins. */
export function parseYamlSource(file: string, text: string): YamlSource {
  const { isMap, isScalar, isSeq, LineCounter, parseDocument } = yamlLib();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const at = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const values: Record<string, Position> = { '': { line: 1, column: 1 } };
  const keys: Record<string, Position> = {};

  const walk = (node: Node | null | undefined, path: string): void => {
    if (!node) return;
    if (node.range) values[path] = at(node.range[0]);
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const child = joinPath(path, key);
        const keyNode = pair.key as Node | null;
        if (keyNode?.range) keys[child] = at(keyNode.range[0]);
        // `key:` with no value still has a position: the key's.
        if (pair.value === null && keys[child]) values[child] = keys[child];
        walk(pair.value as Node | null, child);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        walk(item as Node, joinPath(path, i));
      });
    }
  };
  walk(doc.contents as Node | null, '');

  const errors: Diagnostic[] = [...doc.errors, ...doc.warnings].map((e) => {
    const pos = at(e.pos[0]);
    return { file, line: pos.line, column: pos.column, path: '', message: firstLine(e.message) };
  });
  return {
    file,
    value: errors.length > 0 ? undefined : doc.toJS({ maxAliasCount: 100 }),
    values,
    keys,
    errors,
  };
}

/** yaml's messages append a source excerpt after a blank line; the location already says where. */
function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

/** Position of a path, falling back to the nearest ancestor that was written down. */
export function positionOf(src: Pick<YamlSource, 'values'>, path: string): Position {
  for (let p = path; ; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
    const pos = src.values[p];
    if (pos) return pos;
    if (p === '') return { line: 1, column: 1 };
  }
}

/**
 * Finds where a dotted path is written in a file, parsing each file at most once and only when
 * asked: valid input never pays for positions.
 */
export type Locator = (file: string, text: string | undefined, path: string) => Position;

export function createLocator(): Locator {
  const parsed = new Map<string, YamlSource>();
  return (file, text, path) => {
    if (text === undefined) return { line: 1, column: 1 };
    let src = parsed.get(file);
    if (!src) {
      src = parseYamlSource(file, text);
      parsed.set(file, src);
    }
    return positionOf(src, path);
  };
}
