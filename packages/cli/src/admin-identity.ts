// Which keys decrypt the fleet's secrets for an automatic rekey (up, provision, destroy, remove) and
// for `secrets rekey|edit`: one answer everywhere, configured once.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import type { Fleet } from '@agentfleet/core';
import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { expandPath } from './fleet-files.js';

export const collectIdentity = (value: string, previous: string[]) => [...previous, value];
export const IDENTITY_HELP =
  'admin identity that decrypts secrets (repeatable; default: adminIdentity in agents/fleet.yaml, else ~/.ssh/id_ed25519, ~/.ssh/id_rsa and the fleet login key)';

/** `-i FILE` (repeatable) on every command that decrypts or rekeys secrets. */
export function identityOption(command: Command): Command {
  return command.option('-i, --identity <file>', IDENTITY_HELP, collectIdentity, []);
}

/**
 * `-i` files (relative to the current directory, as a shell user means them), else fleet.yaml's
 * `adminIdentity`, else agenix's defaults plus the key fleet logs in with, those that exist.
 */
export function adminIdentityPaths(ctx: CliContext, fleet: Fleet, loginKey?: string): string[] {
  if (ctx.identities.length > 0) return ctx.identities.map((p) => resolve(p));
  const configured = fleet.config.adminIdentity;
  if (configured !== undefined) return [expandPath(ctx.dir, configured)];
  const defaults = [loginKey, `${homedir()}/.ssh/id_ed25519`, `${homedir()}/.ssh/id_rsa`];
  return [...new Set(defaults)].filter((p): p is string => p !== undefined && existsSync(p));
}
