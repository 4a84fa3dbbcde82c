import { provisionOne } from '@agentfleet/app/provision';
import { type BuildOn, PROVISIONING_STEPS, type ProvisioningStep } from '@agentfleet/core';
import { describeFailure } from '@agentfleet/engine';
import { type Command, Option } from 'commander';
import { contextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { collectIdentity, IDENTITY_HELP } from '../identity-option.js';
import { printResult } from '../output.js';
import { agentName } from './agent-name.js';
import { buildOnOption } from './build-on.js';
import { drawsOnTerminal, provisionProgress } from './progress.js';
import { lockHolder } from './runtime.js';

interface ProvisionOptions {
  from?: ProvisioningStep;
  rekey?: boolean;
  yes?: boolean;
  buildOn?: BuildOn;
}

export function registerProvision(program: Command): void {
  program
    .command('provision')
    .description(
      'provision an agent that answers SSH, resuming where it stopped: nixos-rebuild, host key, rekey, nixos-rebuild, check /run/agenix',
    )
    .argument('<name>', 'agent', agentName)
    .addOption(
      new Option('--from <step>', 'redo this step and every step after it').choices(PROVISIONING_STEPS),
    )
    .option('--rekey', "accept the agent's new host key (VM recreated), re-capture it and rekey; needs --yes")
    .option('--yes', 'confirm --rekey')
    .addOption(buildOnOption())
    .option('-i, --identity <file>', IDENTITY_HELP, collectIdentity, [])
    .action(async (name: string, opts: ProvisionOptions, command: Command) => {
      const ctx = contextOf(command);
      if (opts.rekey && !opts.yes) {
        throw new UsageError(
          `--rekey trusts whatever host key ${name} presents now and re-encrypts its secrets to it; ` +
            `if the VM was recreated on purpose, confirm with: fleet provision ${name} --rekey --yes`,
        );
      }
      const result = await provisionOne(
        ctx,
        {
          name,
          ...(opts.from !== undefined && { from: opts.from }),
          ...(opts.rekey && { rekey: true }),
          ...(opts.buildOn !== undefined && { buildOn: opts.buildOn }),
        },
        lockHolder(ctx, `fleet ${process.argv.slice(2).join(' ')}`),
        (agents) =>
          provisionProgress({ interactive: drawsOnTerminal(ctx), agents, steps: PROVISIONING_STEPS.length }),
      );
      const human = result.ok
        ? `${name}: ${result.ran.length > 0 ? `provisioned (${result.ran.join(', ')})` : 'already provisioned'}`
        : `${name}: FAILED\n  ${describeFailure(result).replaceAll('\n', '\n  ')}`;
      printResult(ctx, human, result);
      if (!result.ok) process.exitCode = 1;
    });
}
