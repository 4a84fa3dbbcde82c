// Which keys decrypt the fleet's secrets for an automatic rekey (up, provision, destroy, remove) and
// for `secrets rekey|edit`: one answer everywhere, configured once.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import type { Fleet } from '@agentfleet/core';
import { type AgeIdentity, readIdentityFile } from '@agentfleet/secrets';
import type { AppContext } from './context.js';
import { expandPath } from './fleet-files.js';

/**
 * `-i` files (relative to the current directory, as a shell user means them), else fleet.yaml's
 * `adminIdentity`, else agenix's defaults plus the key fleet logs in with, those that exist.
 */
export function adminIdentityPaths(ctx: AppContext, fleet: Fleet, loginKey?: string): string[] {
  const named = ctx.identities ?? [];
  if (named.length > 0) return named.map((p) => resolve(p));
  const configured = fleet.config.adminIdentity;
  if (configured !== undefined) return [expandPath(ctx.dir, configured)];
  const defaults = [loginKey, `${homedir()}/.ssh/id_ed25519`, `${homedir()}/.ssh/id_rsa`];
  return [...new Set(defaults)].filter((p): p is string => p !== undefined && existsSync(p));
}

/** Every identity in `paths`, asking for passphrases (the front-end's AppContext.askPassphrase) where a key has one. */
export async function readAdminIdentities(
  paths: readonly string[],
  askPassphrase?: (path: string) => Promise<string>,
): Promise<AgeIdentity[]> {
  const out: AgeIdentity[] = [];
  for (const path of paths) out.push(...(await readIdentityFile(path, askPassphrase)));
  return out;
}
