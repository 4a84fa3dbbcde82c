import { stripVTControlCharacters } from 'node:util';

/** Width as seen on screen: colour escapes take no columns. */
const width = (s: string) => stripVTControlCharacters(s).length;

/** A plain left-aligned text table (what `virsh list` users expect to read); cells may be coloured. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(Math.max(0, (widths[i] ?? 0) - width(c)))))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
