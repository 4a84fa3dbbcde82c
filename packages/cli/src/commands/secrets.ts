// `fleet secrets ...`: agenix-compatible secrets, kept thin over packages/secrets.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readFleet, readFleetSources } from '@agentfleet/app/fleet-files';
import { regenerateAgentsJson } from '@agentfleet/app/nix-data';
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
import type { Command } from 'commander';
import { type CliContext, contextOf } from '../context.js';
import { FleetError, UsageError, ValidationError } from '../errors.js';
import { identityOption } from '../identity-option.js';
import { printResult } from '../output.js';
import { editPlaintext } from './secrets-edit.js';
import {
  loadIdentities,
  newRuleRecipients,
  readFleetRules,
  recipientNamer,
  ruleNameOf,
  secretsDirOf,
} from './secrets-files.js';
import { withSecretListed } from './secrets-yaml.js';
import { formatTable } from './table.js';

async function listAction(ctx: CliContext): Promise<void> {
  // A fleet without agenix rules is a fleet without secrets, not an error of nix-instantiate's.
  if (!existsSync(join(secretsDirOf(ctx), 'secrets.nix'))) {
    printResult(
      ctx,
      'no secrets configured: secrets/secrets.nix does not exist (copy it, with hosts/keys.nix, from the agentfleet repository to use secrets)',
      { ok: true, secrets: [] },
    );
    return;
  }
  const rules = await readFleetRules(ctx);
  const namer = recipientNamer(ctx);
  const agentsOfFleet = readFleet(ctx.dir).agents;
  const listedBy = (secret: string) =>
    agentsOfFleet.filter((a) => a.secrets.includes(secret.replace(/\.age$/, ''))).map((a) => a.name);
  const rows = Object.keys(rules)
    .sort()
    .map((file) => {
      const rule = rules[file] ?? { publicKeys: [], armor: false };
      const path = join(secretsDirOf(ctx), file);
      const recipients = rule.publicKeys.map(parseRecipient);
      // "stale" means the file's recipients differ from the rule: `fleet secrets rekey` fixes it.
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
  const human = formatTable(
    ['SECRET', 'STATE', 'AGENTS', 'RECIPIENTS'],
    rows.map((r) => [
      r.file,
      r.state,
      [...r.agents, ...r.pending.map((a) => `${a}(no host key yet)`)].join(',') || '-',
      r.recipients.join(','),
    ]),
  );
  printResult(ctx, human, { ok: true, secrets: rows });
}

interface RekeyOptions {
  agent?: string;
  identity: string[];
  force?: boolean;
}

async function rekeyAction(ctx: CliContext, opts: RekeyOptions): Promise<void> {
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
  const summary: RekeySummary = await rekey({ secretsDir, rules, identities, only, force: opts.force });
  const lines = [
    ...summary.rekeyed.map((f) => `rekeyed    ${f}`),
    ...summary.unchanged.map((f) => `unchanged  ${f}`),
    ...summary.missing.map((f) => `missing    ${f} (rule without a file)`),
    ...summary.failed.map((f) => `FAILED     ${f.error}`),
  ];
  const counts = `${summary.rekeyed.length} rekeyed, ${summary.unchanged.length} unchanged, ${summary.missing.length} missing, ${summary.failed.length} failed`;
  printResult(ctx, [...lines, counts].join('\n'), { ok: summary.failed.length === 0, ...summary });
  if (summary.failed.length > 0) process.exitCode = 1;
}

async function editAction(ctx: CliContext, arg: string, _opts: { identity: string[] }): Promise<void> {
  const rules = await readFleetRules(ctx);
  const name = ruleNameOf(ctx, arg, rules);
  const rule = rules[name];
  if (rule === undefined) throw new UsageError(`secrets/secrets.nix has no rule for '${arg}'`);
  const path = join(secretsDirOf(ctx), name);
  const exists = existsSync(path);
  const before = exists
    ? await decryptSecret(readFileSync(path), await loadIdentities(ctx), name)
    : new Uint8Array();
  const after = await editPlaintext(name, before);
  try {
    if (exists && Buffer.compare(before, after) === 0) {
      printResult(ctx, `${name} unchanged; not re-encrypted`, { ok: true, file: name, changed: false });
      return;
    }
    const encrypted = await encryptSecret(after, rule.publicKeys.map(parseRecipient), rule.armor);
    await writeFileAtomic(path, encrypted);
    printResult(ctx, `wrote secrets/${name} for ${rule.publicKeys.length} recipient(s)`, {
      ok: true,
      file: name,
      changed: true,
    });
  } finally {
    before.fill(0);
    after.fill(0);
  }
}

const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Adds `secret` to each agent's `secrets:` list, keeping the YAML's comments and layout. */
function agentFilesWithSecret(ctx: CliContext, agents: string[], secret: string) {
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

async function addAction(ctx: CliContext, arg: string, opts: { agents: string }): Promise<void> {
  const secret = arg.replace(/^.*\//, '').replace(/\.age$/, '');
  if (!SECRET_NAME.test(secret))
    throw new UsageError(`'${arg}': a secret name is letters, digits, '.', '_', '-'`);
  const file = `${secret}.age`;
  const path = join(secretsDirOf(ctx), file);
  if (!existsSync(join(secretsDirOf(ctx), 'secrets.nix')))
    throw new UsageError(
      'no secrets configured: secrets/secrets.nix does not exist; copy it, with hosts/keys.nix, from the agentfleet repository (or write agenix rules of your own), then run this again',
    );
  if (existsSync(path))
    throw new UsageError(`secrets/${file} already exists; change it with: fleet secrets edit ${file}`);
  const agents = opts.agents
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  if (agents.length === 0) throw new UsageError('--agents needs at least one agent name');
  const { changed, fleet } = agentFilesWithSecret(ctx, agents, secret);
  const plaintext = await editPlaintext(file, new Uint8Array());
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
    printResult(
      ctx,
      `wrote secrets/${file} for ${rule.publicKeys.length} recipient(s); listed for ${agents.join(', ')}`,
      {
        ok: true,
        file,
        agents,
        recipients: rule.publicKeys.length,
      },
    );
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
  ctx: CliContext,
  rulesFile: string,
  file: string,
  agents: string[],
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

export function registerSecrets(program: Command): void {
  const secrets = program.command('secrets').description('agenix secrets: list, add, edit, rekey');
  secrets
    .command('list')
    .description('each secret, its state, the agents that get it, who can decrypt it')
    .action((_opts, command: Command) => listAction(contextOf(command)));
  identityOption(
    secrets
      .command('rekey')
      .description(
        're-encrypt secrets to exactly the recipients secrets.nix lists (skips files already right)',
      )
      .option('--agent <name>', "only the secrets this agent's host key is a recipient of")
      .option('--force', 're-encrypt even files whose recipients already match'),
  ).action((opts: RekeyOptions, command: Command) => rekeyAction(contextOf(command), opts));
  identityOption(
    secrets
      .command('edit')
      .description(
        'decrypt to a private temp file, run $EDITOR, re-encrypt (stdin when piped and no $EDITOR)',
      )
      .argument('<file>', 'secret file or rule name, e.g. secrets/db.age or db'),
  ).action((file: string, opts: { identity: string[] }, command: Command) =>
    editAction(contextOf(command), file, opts),
  );
  secrets
    .command('add')
    .description("create a secret, list it in the agents' YAML, encrypt it to secrets.nix's recipients")
    .argument('<file>', 'secret name, e.g. db-password (secrets/db-password.age)')
    .requiredOption('--agents <names>', 'comma-separated agents that get it')
    .action((file: string, opts: { agents: string }, command: Command) =>
      addAction(contextOf(command), file, opts),
    );
}
