// A host key belongs to one disk. secrets.nix makes secrets/hosts/<agent>.pub a recipient of the
// agent's secrets, so when the disk goes (destroy --purge, remove) the key file must go too, and
// the secrets encrypted to it must be re-encrypted without it: otherwise a new VM's first rebuild
// declares secrets for the old key, and the destroyed disk's key can still decrypt them.
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FollowUp } from '@agentfleet/core';
import { JsonStateStore, StateBook, stateFile } from '@agentfleet/engine';
import { type AgeIdentity, filesForRecipient, readRules, rekey } from '@agentfleet/secrets';
import { adminIdentityPaths, readAdminIdentities } from './admin-identity.js';
import type { AppContext } from './context.js';
import type { FollowUpWork } from './goal.js';
import type { Runtime } from './runtime.js';

export interface RetiredHostKeys {
  /** Agents whose hosts/<agent>.pub was deleted. */
  retired: string[];
  /** Secrets re-encrypted without those keys. */
  rekeyed: string[];
  /** Why some secrets still list a retired key (the key files are gone regardless). */
  warning?: string;
}

const keyLines = (text: string) =>
  text.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));

export async function retireHostKeys(
  secretsDir: string,
  identityPaths: readonly string[],
  agents: readonly string[],
  askPassphrase?: (path: string) => Promise<string>,
): Promise<RetiredHostKeys> {
  const pubOf = (agent: string) => join(secretsDir, 'hosts', `${agent}.pub`);
  const retired = agents.filter((a) => existsSync(pubOf(a)));
  if (retired.length === 0) return { retired, rekeyed: [] };
  const rulesFile = join(secretsDir, 'secrets.nix');
  const fix = (why: string) =>
    `${why}; secrets may still be encrypted to the host key of ${retired.join(', ')}: run 'fleet secrets rekey'`;
  let affected = new Set<string>();
  let ruleError: string | undefined;
  if (existsSync(rulesFile)) {
    // Which secrets list a key is known only while its file is still there.
    try {
      const rules = await readRules(rulesFile);
      const keys = (await Promise.all(retired.map((a) => readFile(pubOf(a), 'utf8')))).flatMap(keyLines);
      affected = new Set(keys.flatMap((k) => filesForRecipient(rules, k)));
    } catch (err) {
      ruleError = (err as Error).message;
    }
  }
  await Promise.all(retired.map((a) => rm(pubOf(a), { force: true })));
  if (ruleError !== undefined) return { retired, rekeyed: [], warning: fix(ruleError) };
  if (affected.size === 0) return { retired, rekeyed: [] };
  if (identityPaths.length === 0) {
    return {
      retired,
      rekeyed: [],
      warning: fix(
        'no admin identity (~/.ssh/id_ed25519, ~/.ssh/id_rsa or the fleet key) to re-encrypt with',
      ),
    };
  }
  try {
    const identities: AgeIdentity[] = await readAdminIdentities(identityPaths, askPassphrase);
    const summary = await rekey({
      secretsDir,
      rules: await readRules(rulesFile),
      identities,
      only: (file) => affected.has(file),
    });
    const failed = summary.failed.map((f) => `${f.file}: ${f.error}`);
    return {
      retired,
      rekeyed: summary.rekeyed,
      ...(failed.length > 0 && { warning: fix(`could not re-encrypt ${failed.join('; ')}`) }),
    };
  } catch (err) {
    return { retired, rekeyed: [], warning: fix((err as Error).message) };
  }
}

/** retireHostKeys with the admin identities provisioning uses (destroy --purge, remove --purge). */
export function retireAgentHostKeys(
  ctx: AppContext,
  rt: Runtime,
  agents: readonly string[],
): Promise<RetiredHostKeys> {
  return retireHostKeys(
    join(ctx.dir, 'secrets'),
    adminIdentityPaths(ctx, rt.fleet, rt.run.identityFile),
    agents,
    ctx.askPassphrase,
  );
}

/** The follow-up that retires the committed host keys of those of `agents` that have one (for the plan). */
export function retireFollowUps(ctx: AppContext, agents: readonly string[]): FollowUp[] {
  const committed = agents.filter((a) => existsSync(join(ctx.dir, 'secrets', 'hosts', `${a}.pub`)));
  if (committed.length === 0) return [];
  const reasons = committed.map(
    (a) => `delete secrets/hosts/${a}.pub and re-encrypt the secrets that list it without it`,
  );
  return [{ kind: 'retire-host-keys', agents: committed, reasons }];
}

/** `destroy --purge`'s follow-up: the purged disks' host keys retire. */
export function purgeWork(ctx: AppContext, agents: readonly string[]): FollowUpWork<RetiredHostKeys> {
  return { followUps: retireFollowUps(ctx, agents), run: (rt) => retireAgentHostKeys(ctx, rt, agents) };
}

/**
 * `remove` without --purge keeps the disk, and so its host key, while the key file goes: should
 * the agent be declared again, provisioning must run again to record the key and rekey for it.
 */
export async function forgetProvisioning(rt: Runtime, agent: string): Promise<void> {
  const book = await StateBook.open(new JsonStateStore(stateFile(rt.stateDir)));
  if (book.get(agent)?.provision !== undefined) await book.update(agent, { provision: undefined });
}
