// `fleet secrets ...`: agenix-compatible secrets; the workflow is @agentfleet/app/secrets.
import { addSecret, editSecret, listSecrets, rekeySecrets } from '@agentfleet/app/secrets';
import type { Command } from 'commander';
import { type CliContext, contextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { identityOption } from '../identity-option.js';
import { printResult } from '../output.js';
import { editPlaintext } from './secrets-edit.js';
import { formatTable } from './table.js';

async function listAction(ctx: CliContext): Promise<void> {
  const { configured, secrets } = await listSecrets(ctx);
  if (!configured) {
    printResult(
      ctx,
      'no secrets configured: secrets/secrets.nix does not exist (copy it, with hosts/keys.nix, from the agentfleet repository to use secrets)',
      { ok: true, secrets: [] },
    );
    return;
  }
  const human = formatTable(
    ['SECRET', 'STATE', 'AGENTS', 'RECIPIENTS'],
    secrets.map((r) => [
      r.file,
      r.state,
      [...r.agents, ...r.pending.map((a) => `${a}(no host key yet)`)].join(',') || '-',
      r.recipients.join(','),
    ]),
  );
  printResult(ctx, human, { ok: true, secrets });
}

interface RekeyOptions {
  agent?: string;
  identity: string[];
  force?: boolean;
}

async function rekeyAction(ctx: CliContext, opts: RekeyOptions): Promise<void> {
  const summary = await rekeySecrets(ctx, {
    ...(opts.agent !== undefined && { agent: opts.agent }),
    ...(opts.force !== undefined && { force: opts.force }),
  });
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

async function editAction(ctx: CliContext, arg: string): Promise<void> {
  const r = await editSecret(ctx, arg, editPlaintext);
  if (!r.changed) {
    printResult(ctx, `${r.file} unchanged; not re-encrypted`, { ok: true, file: r.file, changed: false });
    return;
  }
  printResult(ctx, `wrote secrets/${r.file} for ${r.recipients} recipient(s)`, {
    ok: true,
    file: r.file,
    changed: true,
  });
}

async function addAction(ctx: CliContext, arg: string, opts: { agents: string }): Promise<void> {
  const agents = opts.agents
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  if (agents.length === 0) throw new UsageError('--agents needs at least one agent name');
  const r = await addSecret(ctx, arg, agents, editPlaintext);
  printResult(
    ctx,
    `wrote secrets/${r.file} for ${r.recipients} recipient(s); listed for ${r.agents.join(', ')}`,
    { ok: true, file: r.file, agents: r.agents, recipients: r.recipients },
  );
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
  ).action((file: string, _opts: { identity: string[] }, command: Command) =>
    editAction(contextOf(command), file),
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
