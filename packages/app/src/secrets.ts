// The secrets workflow (`fleet secrets list|rekey|edit|add`): agenix-compatible secrets, kept thin
// over packages/secrets. Plaintext reaches a front-end only through its `SecretEditor`.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeFileAtomicSync as writeTextAtomic } from '@agentfleet/atomic-file';
import { AGENTS_JSON_PATH, loadFleet } from '@agentfleet/core';
import {
  addRuleText,
  decryptSecret,
  encryptSecret,
  filesForRecipient,
  headerMatches,
  parseRecipient,
  type RekeySummary,
  readHeader,
  rekey,
  type SecretRule,
  SecretsError,
} from '@agentfleet/secrets';
import type { AppContext } from './context.js';
import { FleetError, UsageError, ValidationError } from './errors.js';
import { readFleet, readFleetSources } from './fleet-files.js';
import { regenerateAgentsJson } from './nix-data.js';
import {
  loadIdentities,
  newRuleRecipients,
  readFleetRules,
  recipientNamer,
  ruleNameOf,
  secretsDirOf,
} from './secrets-files.js';
import { withSecretListed } from './secrets-yaml.js';

/**
 * How a front-end lets the user change a secret's plaintext (`name` is the secret's file name):
 * resolves with the new content, or throws to change nothing. The caller wipes both buffers.
 */
export type SecretEditor = (name: string, before: Uint8Array) => Promise<Uint8Array>;

export interface SecretRow {
  file: string;
  /** `stale`: the file's recipients differ from the rule (`rekeySecrets` fixes it). */
  state: 'ok' | 'stale' | 'missing';
  armor: boolean;
  /** Who can decrypt, named: `agent:NAME`, `admin:NAME`, or the key shortened. */
  recipients: string[];
  /** Agents whose recorded host key is a recipient. */
  agents: string[];
  /** Agents that list the secret but have no host key recorded yet. */
  pending: string[];
}

/** Each secret secrets.nix has a rule for, its state and recipients; `configured: false` without secrets.nix. */
export async function listSecrets(ctx: AppContext): Promise<{ configured: boolean; secrets: SecretRow[] }> {
  // A fleet without agenix rules is a fleet without secrets, not an error of nix-instantiate's.
  if (!existsSync(join(secretsDirOf(ctx), 'secrets.nix'))) return { configured: false, secrets: [] };
  const rules = await readFleetRules(ctx);
  const namer = recipientNamer(ctx);
  const agentsOfFleet = readFleet(ctx.dir).agents;
  const listedBy = (secret: string) =>
    agentsOfFleet.filter((a) => a.secrets.includes(secret.replace(/\.age$/, ''))).map((a) => a.name);
  const secrets = Object.keys(rules)
    .sort()
    .map((file): SecretRow => {
      const rule = rules[file] ?? { publicKeys: [], armor: false };
      const path = join(secretsDirOf(ctx), file);
      const recipients = rule.publicKeys.map(parseRecipient);
      const state = !existsSync(path)
        ? 'missing'
        : headerMatches(readHeader(readFileSync(path), file), recipients, rule.armor)
          ? 'ok'
          : 'stale';
      const agents = rule.publicKeys.flatMap((k) => namer.agentOf(k) ?? []);
      const pending = listedBy(file).filter((a) => !agents.includes(a));
      return {
        file,
        state,
        armor: rule.armor,
        recipients: rule.publicKeys.map(namer.label),
        agents,
        pending,
      };
    });
  return { configured: true, secrets };
}

/**
 * Re-encrypts secrets to exactly the recipients secrets.nix lists (files already right are skipped
 * unless `force`); with `agent`, only the secrets that agent's recorded host key is a recipient of.
 */
export async function rekeySecrets(
  ctx: AppContext,
  opts: { agent?: string; force?: boolean },
): Promise<RekeySummary> {
  const secretsDir = secretsDirOf(ctx);
  const rules = await readFleetRules(ctx);
  let only: ((file: string) => boolean) | undefined;
  if (opts.agent !== undefined) {
    const agent = opts.agent;
    if (!readFleet(ctx.dir).agents.some((a) => a.name === agent))
      throw new UsageError(`no agent named '${agent}'`);
    const keyFile = join(secretsDir, 'hosts', `${agent}.pub`);
    if (!existsSync(keyFile)) {
      throw new UsageError(
        `no host key recorded for '${agent}' (secrets/hosts/${agent}.pub): provision it first`,
      );
    }
    const files = new Set(filesForRecipient(rules, readFileSync(keyFile, 'utf8')));
    only = (file) => files.has(file);
  }
  const identities = await loadIdentities(ctx);
  return rekey({ secretsDir, rules, identities, only, force: opts.force });
}

/**
 * Decrypts the secret `name` means (a path or a rule name; a new file starts empty), lets the user
 * change it, and re-encrypts it to its rule's recipients unless nothing changed.
 */
export async function editSecret(
  ctx: AppContext,
  name: string,
  edit: SecretEditor,
): Promise<{ file: string; changed: boolean; recipients: number }> {
  const rules = await readFleetRules(ctx);
  const file = ruleNameOf(ctx, name, rules);
  const rule = rules[file];
  if (rule === undefined) throw new UsageError(`secrets/secrets.nix has no rule for '${name}'`);
  const path = join(secretsDirOf(ctx), file);
  const exists = existsSync(path);
  const before = exists
    ? await decryptSecret(readFileSync(path), await loadIdentities(ctx), file)
    : new Uint8Array();
  const after = await edit(file, before);
  try {
    if (exists && Buffer.compare(before, after) === 0)
      return { file, changed: false, recipients: rule.publicKeys.length };
    const encrypted = await encryptSecret(after, rule.publicKeys.map(parseRecipient), rule.armor);
    await writeFileAtomic(path, encrypted);
    return { file, changed: true, recipients: rule.publicKeys.length };
  } finally {
    before.fill(0);
    after.fill(0);
  }
}

const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Adds `secret` to each agent's `secrets:` list, keeping the YAML's comments and layout. */
function agentFilesWithSecret(ctx: AppContext, agents: readonly string[], secret: string) {
  const fleet = readFleet(ctx.dir);
  const sources = readFleetSources(ctx.dir);
  const changed = agents.map((agent) => {
    if (!fleet.agents.some((a) => a.name === agent)) throw new UsageError(`no agent named '${agent}'`);
    const source = sources.find((s) => s.path === `agents/${agent}.yaml`);
    if (source === undefined) throw new UsageError(`agent '${agent}' has no agents/${agent}.yaml`);
    return { path: source.path, text: withSecretListed(source.text, secret) };
  });
  const loaded = loadFleet(sources.map((s) => changed.find((c) => c.path === s.path) ?? s));
  if (!loaded.ok) throw new ValidationError(loaded.diagnostics);
  return { changed, fleet: loaded.value };
}

/**
 * Creates the secret `name` (secrets/<name>.age) with the content the user gives, lists it in each
 * agent's YAML and encrypts it to the recipients secrets.nix gives it (a hand-written secrets.nix
 * gets a rule written). Whatever goes wrong, nothing is left changed.
 */
export async function addSecret(
  ctx: AppContext,
  name: string,
  agents: readonly string[],
  edit: SecretEditor,
): Promise<{ file: string; agents: string[]; recipients: number }> {
  const secret = name.replace(/^.*\//, '').replace(/\.age$/, '');
  if (!SECRET_NAME.test(secret))
    throw new UsageError(`'${name}': a secret name is letters, digits, '.', '_', '-'`);
  const file = `${secret}.age`;
  const path = join(secretsDirOf(ctx), file);
  if (!existsSync(join(secretsDirOf(ctx), 'secrets.nix')))
    throw new UsageError(
      'no secrets configured: secrets/secrets.nix does not exist; copy it, with hosts/keys.nix, from the agentfleet repository (or write agenix rules of your own), then run this again',
    );
  if (existsSync(path))
    throw new UsageError(`secrets/${file} already exists; change it with: fleet secrets edit ${file}`);
  const { changed, fleet } = agentFilesWithSecret(ctx, agents, secret);
  const plaintext = await edit(file, new Uint8Array());
  // secrets.nix derives the new rule from the agents' files, so they are written before it is read;
  // a hand-written secrets.nix gets the rule added as a line of its own. Whatever goes wrong, every
  // file is put back as it was: a failed add leaves nothing behind.
  const rulesFile = join(secretsDirOf(ctx), 'secrets.nix');
  const touched = [...changed.map((c) => join(ctx.dir, c.path)), join(ctx.dir, AGENTS_JSON_PATH), rulesFile];
  const before = touched.map((p) => (existsSync(p) ? readFileSync(p, 'utf8') : undefined));
  const restore = () =>
    touched.forEach((p, i) => {
      const text = before[i];
      if (text === undefined) rmSync(p, { force: true });
      else writeTextAtomic(p, text);
    });
  const noRecipients = () =>
    new FleetError(
      `secrets/secrets.nix gives ${file} no recipients: no admin key and no agent host key yet; nothing was changed`,
      'add your SSH public key as secrets/admins/<you>.pub (e.g. cp ~/.ssh/id_ed25519.pub secrets/admins/$USER.pub), then run this again',
    );
  try {
    let rule: SecretRule | undefined;
    try {
      for (const c of changed) writeTextAtomic(join(ctx.dir, c.path), c.text);
      regenerateAgentsJson(ctx, fleet);
      rule = (await readFleetRules(ctx))[file];
      if (rule === undefined) rule = await addRule(ctx, rulesFile, file, agents, noRecipients);
      if (rule.publicKeys.length === 0) throw noRecipients();
    } catch (err) {
      restore();
      throw err;
    }
    await writeFileAtomic(
      path,
      await encryptSecret(plaintext, rule.publicKeys.map(parseRecipient), rule.armor),
    );
    return { file, agents: [...agents], recipients: rule.publicKeys.length };
  } finally {
    plaintext.fill(0);
  }
}

/**
 * A hand-written secrets.nix (a literal attribute set, as in agenix's README) has no rule for a new
 * secret until one is written: one line with the admins' and the agents' recorded keys, the rest
 * of the file untouched, then read back through nix-instantiate to prove it says that.
 */
async function addRule(
  ctx: AppContext,
  rulesFile: string,
  file: string,
  agents: readonly string[],
  noRecipients: () => Error,
): Promise<SecretRule> {
  const keys = newRuleRecipients(ctx, agents);
  if (keys.length === 0) throw noRecipients();
  let text: string;
  try {
    text = addRuleText(readFileSync(rulesFile, 'utf8'), file, keys);
  } catch (err) {
    if (err instanceof SecretsError) throw new FleetError(`${err.message}; nothing was changed`);
    throw err;
  }
  writeTextAtomic(rulesFile, text);
  const rule = (await readFleetRules(ctx))[file];
  if (rule === undefined || JSON.stringify(rule.publicKeys) !== JSON.stringify(keys)) {
    throw new FleetError(
      `secrets/secrets.nix does not give ${file} the keys fleet added for it (it evaluates to ${JSON.stringify(rule?.publicKeys ?? null)}); nothing was changed`,
      `add it yourself: "${file}".publicKeys = [ ... ];`,
    );
  }
  ctx.log.info({ file: 'secrets/secrets.nix', rule: file }, 'rule added');
  return rule;
}
