// JSON text laid out the way the repository's formatter (biome, biome.json) prints it, so a
// generated file that is committed stays unchanged by `biome check --write`: objects one member
// per line, arrays of scalars on one line when they fit in the line width, else one per line.

/** biome.json's formatter.lineWidth. */
const LINE_WIDTH = 110;
const INDENT = '  ';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isScalar = (value: Json): value is null | boolean | number | string =>
  value === null || typeof value !== 'object';

/**
 * `value` as it appears after `column` characters of its line, followed by `trailer` characters
 * (a comma) on the same line; `depth` is its nesting level.
 */
function render(value: Json, depth: number, column: number, trailer: number): string {
  if (isScalar(value)) return JSON.stringify(value);
  const inner = INDENT.repeat(depth + 1);
  const close = INDENT.repeat(depth);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every(isScalar)) {
      const flat = `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
      if (column + flat.length + trailer <= LINE_WIDTH) return flat;
    }
    const items = value.map(
      (v, i) => inner + render(v, depth + 1, inner.length, i < value.length - 1 ? 1 : 0),
    );
    return `[\n${items.join(',\n')}\n${close}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return '{}';
  const members = entries.map(([key, v], i) => {
    const head = `${inner}${JSON.stringify(key)}: `;
    return head + render(v, depth + 1, head.length, i < entries.length - 1 ? 1 : 0);
  });
  return `{\n${members.join(',\n')}\n${close}}`;
}

/** The file's text, ending with a newline. */
export function jsonText(value: Json): string {
  return `${render(value, 0, 0, 0)}\n`;
}
