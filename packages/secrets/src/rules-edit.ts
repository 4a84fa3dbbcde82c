// Adding a rule to a hand-written agenix secrets.nix (`{ "x.age".publicKeys = [ ... ]; ... }`) as
// text: one new entry before the attribute set's closing brace, indented like the entries around
// it, every other byte of the file (comments, order, spacing) as it was. The caller checks the
// result by evaluating it (nix-instantiate), as agenix reads it.
import { SecretsError } from './errors.js';

/** Where each code `}` is: comments and strings (with their `${...}` interpolations) skipped. */
function closingBraces(source: string): { braces: number[]; lastCode: number } {
  const braces: number[] = [];
  let lastCode = -1;
  // What encloses the cursor: code (the file, or an interpolation `${` of a string), or a string.
  const stack: ('code' | 'interp' | 'dq' | 'ind')[] = ['code'];
  let depth = 0;
  const depths: number[] = [];
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    const mode = stack.at(-1);
    if (mode === 'dq' || mode === 'ind') {
      if (mode === 'dq' && c === '\\') i++;
      else if (mode === 'ind' && source.startsWith("'''", i)) i += 2;
      else if (mode === 'ind' && source.startsWith("''$", i)) i += 2;
      else if (source.startsWith('${', i)) {
        stack.push('interp');
        depths.push(depth);
        depth = 0;
        i++;
      } else if ((mode === 'dq' && c === '"') || (mode === 'ind' && source.startsWith("''", i))) {
        if (mode === 'ind') i++;
        stack.pop();
        lastCode = i;
      }
      continue;
    }
    if (c === '#') {
      const end = source.indexOf('\n', i);
      i = end < 0 ? source.length : end;
    } else if (source.startsWith('/*', i)) {
      const end = source.indexOf('*/', i + 2);
      i = end < 0 ? source.length : end + 1;
    } else if (c === '"') stack.push('dq');
    else if (source.startsWith("''", i)) {
      stack.push('ind');
      i++;
    } else if (c === '{') depth++;
    else if (c === '}') {
      if (depth === 0 && mode === 'interp') {
        stack.pop();
        depth = depths.pop() ?? 0;
        continue;
      }
      depth--;
      braces.push(i);
      lastCode = i;
    } else if (c !== undefined && !/\s/.test(c)) lastCode = i;
  }
  return { braces, lastCode };
}

const nixString = (s: string) => `"${s.replace(/[\\"]/g, '\\$&').replace(/\$\{/g, '\\${')}"`;

/**
 * `source` with `"<file>".publicKeys = [ <keys> ];` added as the last entry of the attribute set
 * the file ends with. Refused (SecretsError) when the file does not end with one (e.g. rules built
 * by a function, like this repository's own secrets.nix, which needs no edit).
 */
export function addRuleText(source: string, file: string, publicKeys: readonly string[]): string {
  const { braces, lastCode } = closingBraces(source);
  const close = braces.at(-1);
  if (close === undefined || close !== lastCode) {
    throw new SecretsError(
      `secrets.nix does not end with an attribute set of rules, so fleet cannot add "${file}" to it; add it yourself: "${file}".publicKeys = [ ... ];`,
    );
  }
  const lineStart = source.lastIndexOf('\n', close - 1) + 1;
  const beforeBrace = source.slice(lineStart, close);
  const keys = publicKeys.map(nixString);
  if (beforeBrace.trim() !== '') {
    // `{ "a.age".publicKeys = [ ]; }` on one line: the new entry joins that line.
    const space = /\s$/.test(beforeBrace) ? '' : ' ';
    return `${source.slice(0, close)}${space}${nixString(file)}.publicKeys = [ ${keys.join(' ')} ]; ${source.slice(close)}`;
  }
  const indent = entryIndent(source.slice(0, lineStart), beforeBrace);
  // One step of the file's own indentation: the entries' depth below the brace.
  const step = indent.startsWith(beforeBrace) ? indent.slice(beforeBrace.length) : '';
  const unit = step !== '' ? step : indent.startsWith('\t') ? '\t' : '  ';
  const value =
    keys.length <= 1
      ? `[ ${keys.join('')} ]`
      : `[\n${keys.map((k) => `${indent}${unit}${k}\n`).join('')}${indent}]`;
  return `${source.slice(0, lineStart)}${indent}${nixString(file)}.publicKeys = ${value};\n${source.slice(lineStart)}`;
}

/** The indentation of the set's entries: that of the last line starting an attribute, else one step in. */
function entryIndent(before: string, braceIndent: string): string {
  const lines = before.split('\n').reverse();
  for (const line of lines) {
    const m = /^(\s*)("[^"]*"|[A-Za-z_][\w'-]*)(\.("[^"]*"|[A-Za-z_][\w'-]*))*\s*=/.exec(line);
    if (m) return m[1] ?? '';
    // The line that opens the set: it has no entry yet.
    if (/(^|[=\s])\{\s*$/.test(line)) break;
  }
  return `${braceIndent}${braceIndent.startsWith('\t') ? '\t' : '  '}`;
}
