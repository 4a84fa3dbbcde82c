// agenix rules: secrets.nix evaluated by Nix itself, exactly as agenix does (nix-instantiate
// --eval --strict --json), so any valid agenix secrets.nix works: let, ++, inherit, imports,
// builtins.readFile of host keys kept as data.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { z } from 'zod';
import { SecretsError } from './errors.js';
import { recipientParser } from './recipients.js';

export interface SecretRule {
  publicKeys: string[];
  armor: boolean;
}

/** Rule name (a path relative to the directory of secrets.nix, e.g. "db-password.age") -> rule. */
export type Rules = Record<string, SecretRule>;

// agenix's own reading: `rules."name".publicKeys` and `hasAttr "armor" && armor`. The attribute's
// position comes along so errors can point at the line that declares the secret.
const EXPRESSION = `{ rulesPath }:
let rules = import rulesPath;
in builtins.mapAttrs (name: rule: {
  publicKeys = rule.publicKeys or null;
  armor = rule.armor or false;
  pos = builtins.unsafeGetAttrPos name rules;
}) rules`;

const evaluated = z.record(
  z.string(),
  z.object({
    publicKeys: z.unknown(),
    armor: z.unknown(),
    pos: z.object({ file: z.string(), line: z.number(), column: z.number() }).nullable(),
  }),
);

export interface NixOptions {
  /** Defaults to `nix-instantiate` on PATH. */
  nixInstantiate?: string;
}

function evaluate(rulesPath: string, opts: NixOptions): Promise<string> {
  const bin = opts.nixInstantiate ?? 'nix-instantiate';
  // Without root there is no writable /nix/var; evaluation needs no store, so use a dummy one.
  const store = process.getuid?.() === 0 ? [] : ['--store', 'dummy://'];
  const args = [
    '--eval',
    '--strict',
    '--json',
    ...store,
    '--argstr',
    'rulesPath',
    rulesPath,
    '-E',
    EXPRESSION,
  ];
  return new Promise((done, fail) => {
    execFile(bin, args, { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (!err) return done(stdout);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return fail(
          new SecretsError(
            `${bin} not found; it evaluates secrets.nix. Install it: apt-get install nix-bin (Debian/Ubuntu), or install Nix`,
            rulesPath,
          ),
        );
      }
      // Nix warns about its own configuration (e.g. a missing nixbld group) on every run.
      const message = stderr
        .split('\n')
        .filter((l) => !l.startsWith('warning:'))
        .join('\n')
        .trim();
      fail(new SecretsError(`nix-instantiate failed:\n${message || err.message}`, rulesPath));
    });
  });
}

/** Evaluates an agenix secrets.nix into rules; every recipient is checked to be usable. */
export async function readRules(secretsNix: string, opts: NixOptions = {}): Promise<Rules> {
  const rulesPath = resolve(secretsNix);
  const raw = evaluated.safeParse(JSON.parse(await evaluate(rulesPath, opts)));
  if (!raw.success) throw new SecretsError('must evaluate to an attribute set of secrets', rulesPath);
  const rules: Rules = {};
  const parse = recipientParser();
  for (const [name, rule] of Object.entries(raw.data)) {
    const where = rule.pos ? `${rule.pos.file}:${rule.pos.line}:${rule.pos.column}` : rulesPath;
    const fail = (message: string): never => {
      throw new SecretsError(`"${name}".${message}`, where);
    };
    const keys = z.array(z.string()).safeParse(rule.publicKeys);
    if (!keys.success) fail('publicKeys must be a list of strings');
    if (typeof rule.armor !== 'boolean') fail('armor must be true or false');
    const publicKeys = keys.data ?? [];
    publicKeys.forEach((key, i) => {
      try {
        parse(key);
      } catch (err) {
        fail(`publicKeys[${i}]: ${(err as Error).message}`);
      }
    });
    rules[name] = { publicKeys, armor: rule.armor === true };
  }
  return rules;
}

/** The part of a recipient that identifies the key: comments after an SSH key do not matter. */
export function recipientKey(recipient: string): string {
  return recipient.trim().split(/\s+/).slice(0, 2).join(' ');
}

/** Rule names that list `recipient` (e.g. an agent's host key), sorted. */
export function filesForRecipient(rules: Rules, recipient: string): string[] {
  const wanted = recipientKey(recipient);
  return Object.keys(rules)
    .filter((name) => rules[name]?.publicKeys.some((k) => recipientKey(k) === wanted))
    .sort();
}
