// Where the secrets workflow (secrets.ts) finds things in the fleet repo: secrets/secrets.nix and its files, the
// admins' and agents' public keys kept as data, and the identities that decrypt.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { type AgeIdentity, type Rules, readRules, recipientKey } from '@agentfleet/secrets';
import { adminIdentityPaths, readAdminIdentities } from './admin-identity.js';
import type { AppContext } from './context.js';
import { UsageError } from './errors.js';
import { readFleet } from './fleet-files.js';

export const secretsDirOf = (ctx: AppContext): string => join(ctx.dir, 'secrets');

export function readFleetRules(ctx: AppContext): Promise<Rules> {
  return readRules(join(secretsDirOf(ctx), 'secrets.nix'));
}

/**
 * The rule a name the user gave means: a path to the file (from cwd or from the fleet repo) or
 * a rule name relative to secrets/, with or without ".age".
 */
export function ruleNameOf(ctx: AppContext, arg: string, rules: Rules): string {
  const dir = secretsDirOf(ctx);
  const paths = [arg, relative(dir, resolve(arg)), relative(dir, resolve(ctx.dir, arg))];
  const candidates = paths.flatMap((p) => [p, `${p}.age`]);
  const name = candidates.find((c) => !c.startsWith('..') && rules[c] !== undefined);
  if (name === undefined) throw new UsageError(`secrets/secrets.nix has no rule for '${arg}'`);
  return name;
}

/** The admin identities (admin-identity.ts), or a usage error naming where they can come from. */
export async function loadIdentities(ctx: AppContext): Promise<AgeIdentity[]> {
  const chosen = adminIdentityPaths(ctx, readFleet(ctx.dir));
  if (chosen.length === 0) {
    throw new UsageError(
      'no identity to decrypt with: pass -i FILE, set adminIdentity in agents/fleet.yaml, or create ~/.ssh/id_ed25519',
    );
  }
  return readAdminIdentities(chosen, ctx.askPassphrase);
}

/** Keys kept as data, one "TYPE BASE64 [comment]" per line, in `dir`/<name>.pub. */
function keysIn(dir: string): [name: string, key: string][] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.pub'))
    .flatMap((f) =>
      readFileSync(join(dir, f), 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '' && !l.trim().startsWith('#'))
        .map((l): [string, string] => [f.slice(0, -4), recipientKey(l)]),
    );
}

/** Who a recipient is, for display: "admin:NAME", "agent:NAME", or the key itself shortened. */
export function recipientNamer(ctx: AppContext): {
  label: (key: string) => string;
  agentOf: (key: string) => string | undefined;
} {
  const dir = secretsDirOf(ctx);
  const agents = new Map(keysIn(join(dir, 'hosts')).map(([name, key]) => [key, name]));
  const admins = new Map(keysIn(join(dir, 'admins')).map(([name, key]) => [key, name]));
  return {
    agentOf: (key) => agents.get(recipientKey(key)),
    label: (key) => {
      const k = recipientKey(key);
      const agent = agents.get(k);
      if (agent !== undefined) return `agent:${agent}`;
      const admin = admins.get(k);
      if (admin !== undefined) return `admin:${admin}`;
      return k.length > 30 ? `${k.slice(0, 27)}...` : k;
    },
  };
}

/**
 * Who a new secret is encrypted to when a hand-written secrets.nix needs its rule written: every
 * admin key (secrets/admins/*.pub) and the host key of each agent that gets it, as far as recorded.
 */
export function newRuleRecipients(ctx: AppContext, agents: readonly string[]): string[] {
  const dir = secretsDirOf(ctx);
  const hosts = keysIn(join(dir, 'hosts')).filter(([name]) => agents.includes(name));
  return [...new Set([...keysIn(join(dir, 'admins')), ...hosts].map(([, key]) => key))];
}
