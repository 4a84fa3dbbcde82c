import { type Command, InvalidArgumentError } from 'commander';
import { collectIdentity, IDENTITY_HELP } from '../admin-identity.js';
import { contextOf } from '../context.js';
import { agentNames } from './agent-name.js';
import { applyGoal } from './apply-goal.js';

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
      '\nExamples:\n  fleet up                      # every agent\n  fleet up drago --no-provision # boot drago, stop once SSH answers\n  fleet --json up | jq .ok',
    )
    .option('-c, --concurrency <n>', 'agents brought up at once', positiveInt, 4)
    .option('--no-provision', 'stop at "ssh ready": no nixos-rebuild, host-key capture or rekey')
    .option(
      '--pregenerate-host-keys',
      'for agents without a disk yet: make the SSH host key here, pin it and hand it to the guest via fw_cfg, so provisioning needs one nixos-rebuild',
    )
    .option('-i, --identity <file>', IDENTITY_HELP, collectIdentity, [])
    .action(
      async (
        names: string[],
        opts: { concurrency: number; provision: boolean; pregenerateHostKeys?: boolean },
        command: Command,
      ) => {
        await applyGoal(contextOf(command), {
          names,
          goal: 'up',
          dryRun: false,
          concurrency: opts.concurrency,
          provision: opts.provision,
          pregenerateHostKeys: opts.pregenerateHostKeys === true,
        });
      },
    );
}
