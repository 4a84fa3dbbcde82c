import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { agentNames } from './agent-name.js';
import { applyGoal } from './apply-goal.js';

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('show what `fleet up` would do: desired (YAML + ledger) versus actual (libvirt, disks)')
    .argument('[names...]', 'agents (default: all)', agentNames)
    .option('--no-provision', 'plan for `fleet up --no-provision` (stop at "ssh ready")')
    .action(async (names: string[], opts: { provision: boolean }, command: Command) => {
      await applyGoal(contextOf(command), { names, goal: 'up', dryRun: true, provision: opts.provision });
    });
}
