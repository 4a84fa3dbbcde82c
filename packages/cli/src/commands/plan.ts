import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { agentNames } from './agent-name.js';
import { applyGoal } from './apply-goal.js';

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('show what `fleet up` would do: desired (YAML + ledger) versus actual (libvirt, disks)')
    .argument('[names...]', 'agents (default: all)', agentNames)
    .addHelpText(
      'after',
      '\nExamples:\n  fleet plan\n  fleet plan drago --detailed-exitcode   # 0 nothing to do, 2 changes, 1 error/blocked',
    )
    .option('--no-provision', 'plan for `fleet up --no-provision` (stop at "ssh-ready")')
    .option(
      '--detailed-exitcode',
      'exit 0 when nothing would change, 2 when `fleet up` has work, 1 on errors or a blocked agent (as terraform)',
    )
    .action(
      async (names: string[], opts: { provision: boolean; detailedExitcode?: boolean }, command: Command) => {
        await applyGoal(contextOf(command), {
          names,
          goal: 'up',
          dryRun: true,
          provision: opts.provision,
          detailedExitCode: opts.detailedExitcode === true,
        });
      },
    );
}
