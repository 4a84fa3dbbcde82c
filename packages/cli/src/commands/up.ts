import type { BuildOn } from '@agentfleet/core';
import { type Command, InvalidArgumentError } from 'commander';
import { contextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { collectIdentity, IDENTITY_HELP } from '../identity-option.js';
import { agentNames } from './agent-name.js';
import { applyGoal } from './apply-goal.js';
import { buildOnOption } from './build-on.js';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

export function registerUp(program: Command): void {
  program
    .command('up')
    .description(
      'create disks, define and start agents, wait until SSH answers, then provision them (resumes where a previous run stopped; a second run does nothing)',
    )
    .argument('[names...]', 'agents (default: all)', agentNames)
    .addHelpText(
      'after',
      '\nExamples:\n  fleet up                      # every agent\n  fleet up drago --no-provision # boot drago, stop once SSH answers\n  fleet up --rebase drago --yes # new disk from the changed baseImage, same identity (see fleet reset --help)\n  fleet --json up | jq .ok',
    )
    .option('-c, --concurrency <n>', 'agents brought up at once', positiveInt, 4)
    .option('--no-provision', 'stop at "ssh ready": no nixos-rebuild, host-key capture or rekey')
    .option(
      '--no-pregenerate-host-keys',
      'let new agents make their own SSH host key at first boot (pinned at first contact; provisioning then needs two nixos-rebuilds), for a base image without the fw_cfg hand-over (hosts/common/host-key.nix). By default, for each new agent on this machine, fleet makes the key here, pins it and hands it to the guest via fw_cfg',
    )
    .option(
      '--rebase',
      "recreate the named agents' disks from the current baseImage, keeping their identity (as fleet reset); asks first",
    )
    .option('-y, --yes', 'with --rebase: do not ask before deleting the disks')
    .addOption(buildOnOption())
    .option('-i, --identity <file>', IDENTITY_HELP, collectIdentity, [])
    .action(
      async (
        names: string[],
        opts: {
          concurrency: number;
          provision: boolean;
          pregenerateHostKeys: boolean;
          rebase?: boolean;
          yes?: boolean;
          buildOn?: BuildOn;
        },
        command: Command,
      ) => {
        if (opts.rebase && names.length === 0)
          throw new UsageError('--rebase needs the agents to rebase by name');
        const rebase = opts.rebase
          ? (await import('./reset.js')).resetBefore('up --rebase', names, opts.yes === true)
          : undefined;
        await applyGoal(contextOf(command), {
          names,
          goal: 'up',
          dryRun: false,
          concurrency: opts.concurrency,
          provision: opts.provision,
          pregenerateHostKeys: opts.pregenerateHostKeys,
          ...(rebase && { before: rebase }),
          ...(opts.buildOn && { buildOn: opts.buildOn }),
        });
      },
    );
}
