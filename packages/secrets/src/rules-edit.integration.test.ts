// A rule added to hand-written secrets.nix files of several shapes: the only change to the text is
// the inserted entry, and the result, read with agenix's own expressions through the real
// nix-instantiate, has the new rule with exactly its keys and every old rule as it was.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@agentfleet/testing/age-oracle';
import { afterAll, describe, expect, it } from 'vitest';
import { addRuleText } from './rules-edit.js';

const dir = tempDir();
afterAll(() => dir.remove());

const ALICE = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBn9fFvNxXk7kP1n4A2o3VHhJm3JbE2uFv6m3m5rTq2a';
const DRAGO = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0l1i3aN2fQ0G3q4Yv9w8x7c6b5a4Z3y2X1w0V9u8T7';

/** What agenix evaluates (pkgs/agenix.sh): the rule names, then each rule's publicKeys and armor. */
function agenixView(path: string): Record<string, { publicKeys: string[]; armor: boolean }> {
  const nix = (expr: string) =>
    JSON.parse(
      execFileSync('nix-instantiate', ['--json', '--eval', '--strict', '-E', expr], { encoding: 'utf8' }),
    );
  const names: string[] = nix(`(let rules = import ${path}; in builtins.attrNames rules)`);
  return Object.fromEntries(
    names.map((n) => [
      n,
      {
        publicKeys: nix(`(let rules = import ${path}; in rules."${n}".publicKeys)`),
        armor: nix(
          `(let rules = import ${path}; in (builtins.hasAttr "armor" rules."${n}" && rules."${n}".armor))`,
        ),
      },
    ]),
  );
}

const shapes: Record<string, string> = {
  'agenix README style, comments and let': `# agenix rules
let
  alice = "${ALICE}"; # the admin
  users = [ alice ];
in
{
  "a.age".publicKeys = users;   # odd spacing, kept
  "b.age" = { publicKeys = [ alice ]; armor = true; };
  # a comment before the closing brace
}
`,
  'four-space indent, multi-line lists, a brace and # inside strings': `{
    "x.age".publicKeys = [
        "${ALICE}"
    ];
    "y}#.age".publicKeys = [ "${ALICE}" ]; /* } */
}   # trailing comment
`,
  'tabs, and no newline at the end': '{\n\t"t.age".publicKeys = [ ];\n}',
  'all on one line': `{ "mail.age".publicKeys = [ "${ALICE}" ]; }\n`,
  'empty set': '{\n}\n',
  'an indented string with an interpolation': `let k = "${ALICE}"; in {
  "s.age".publicKeys = [ ''\${k}'' ];
}
`,
};

describe('addRuleText', () => {
  for (const [shape, source] of Object.entries(shapes)) {
    it(`${shape}: one entry inserted, the rest byte for byte, evaluates as expected`, () => {
      const before = join(dir.path, 'before.nix');
      const after = join(dir.path, 'after.nix');
      writeFileSync(before, source);
      const edited = addRuleText(source, 'new.age', [ALICE, DRAGO]);
      writeFileSync(after, edited);
      // Only an insertion: what precedes and follows it is the original text.
      const start = [...source].findIndex((c, i) => c !== edited[i]);
      const inserted = edited.length - source.length;
      expect(edited.slice(0, start) + edited.slice(start + inserted)).toBe(source);
      expect(edited.slice(start, start + inserted)).toMatch(/"new\.age"\.publicKeys = \[/);
      const old = agenixView(before);
      expect(agenixView(after)).toEqual({ ...old, 'new.age': { publicKeys: [ALICE, DRAGO], armor: false } });
    });
  }

  it('indents like the entries around it', () => {
    expect(
      addRuleText(
        shapes['four-space indent, multi-line lists, a brace and # inside strings'] ?? '',
        'n.age',
        [ALICE, DRAGO],
      ),
    ).toContain(
      `\n    "n.age".publicKeys = [\n        "${ALICE}"\n        "${DRAGO}"\n    ];\n}   # trailing comment\n`,
    );
    expect(addRuleText(shapes['tabs, and no newline at the end'] ?? '', 'n.age', [ALICE])).toBe(
      `{\n\t"t.age".publicKeys = [ ];\n\t"n.age".publicKeys = [ "${ALICE}" ];\n}`,
    );
  });

  it('refuses a file that does not end with an attribute set, naming the entry to add', () => {
    for (const source of ['let r = { "a.age".publicKeys = [ ]; }; in r\n', 'import ./rules.nix\n', '']) {
      expect(() => addRuleText(source, 'n.age', [ALICE])).toThrow(
        /does not end with an attribute set.*"n\.age"\.publicKeys/,
      );
    }
  });
});
