// README's `fleet ...` command lines, as the tests that check and run them read them: every line of its
// sh code blocks and every `fleet ...` it quotes in the text, in README's own notation made concrete.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './run-cli.js';

/** A command line as README writes it: `fleet` replaced by the words after it. */
export interface Example {
  words: string[];
  /** The README line (or quote) it comes from. */
  source: string;
}

export const readme = readFileSync(join(REPO, 'README.md'), 'utf8');

/** README's fenced code blocks with their language. */
export const readmeBlocks = [...readme.matchAll(/^```(\w*)\n([\s\S]*?)^```/gm)].map((m) => ({
  lang: m[1] ?? '',
  text: m[2] ?? '',
}));

/**
 * README's notation made concrete: `[--json]`/`[-f]` are options to check, `[names]`/`[-- cmd]` optional
 * arguments, `list|rekey|edit|add` one example per alternative, `<name>`/`NAME` an agent.
 */
export function examplesOf(line: string): Example[] {
  const source = line.trim();
  const command = source
    .replace(/^node packages\/cli\/dist\/main\.js\b/, 'fleet')
    .replace(/\s+#.*$/, '')
    .replace(/^source <\((fleet [^)]*)\)$/, '$1')
    .replace(/<name>|\bNAME\b/g, 'drago');
  // An optional option is an example with it and one without; other optional parts are left out.
  const optional = /\[(-(?!- )[^\]]*)\]/.exec(command);
  if (optional)
    return [command.replace(optional[0], optional[1] ?? ''), command.replace(optional[0], '')].flatMap((c) =>
      examplesOf(c).map((ex) => ({ ...ex, source })),
    );
  const words = command
    .replace(/\[[^\]]*\]/g, '')
    .split(/\s+/)
    .filter((w) => w !== '');
  if (words[0] !== 'fleet') return [];
  const rest = words.slice(1);
  // `--dir examples/demo` is a path, not alternatives.
  const alternatives = rest.findIndex(
    (w, i) => rest[i - 1] !== '--dir' && (/^[a-z]+(\|[a-z]+)+$/.test(w) || /^[a-z]+(\/[a-z]+)+$/.test(w)),
  );
  if (alternatives < 0 || rest.slice(0, alternatives).some((w) => w.startsWith('-') && w !== '--dir'))
    return [{ words: rest, source }];
  return (rest[alternatives] ?? '')
    .split(/[|/]/)
    .map((alt) => ({ words: rest.map((w, i) => (i === alternatives ? alt : w)), source }));
}

/** Every `fleet` line of README's sh (and plain) code blocks. */
export const blockExamples = readmeBlocks
  .filter((b) => b.lang === 'sh' || b.lang === '')
  .flatMap((b) => b.text.split('\n'))
  .filter((l) => /^(fleet |node packages\/cli\/dist\/main\.js |source <\(fleet )/.test(l.trim()))
  .flatMap(examplesOf);

/** Every `fleet ...` quoted in the text: `fleet down <name> && fleet up <name>` is two. */
export const quotedExamples = [...readme.replace(/\n/g, ' ').matchAll(/`(fleet [^`]*)`/g)]
  .flatMap((m) => (m[1] ?? '').split(/\s*&&\s*/))
  .flatMap(examplesOf);

/** The command words an example names (`secrets add`), without arguments or options. */
export function commandWords(words: string[]): string[] {
  const at = words.findIndex((w) => !w.startsWith('-'));
  // `--dir DIR` comes first in the demo's lines.
  const start = words[0] === '--dir' ? 2 : Math.max(at, 0);
  const first = words[start];
  if (first === undefined || first.startsWith('-')) return [];
  return first === 'secrets' && words[start + 1] ? [first, words[start + 1] as string] : [first];
}
