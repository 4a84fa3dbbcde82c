import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { applyGoal } from './apply-goal.js';
import { retireAgentHostKeys } from './host-keys.js';

export function registerDestroy(program: Command): void {
  program
    .command('destroy')
    .description('power off and undefine an agent; its disk is deleted only with --purge')
    .argument('<names...>', 'agents')
    .option('--purge', 'also delete the disk (cannot be undone)', false)
    .option('--dry-run', 'show the plan only', false)
    .action(async (names: string[], opts: { purge: boolean; dryRun: boolean }, command: Command) => {
      const ctx = contextOf(command);
      await applyGoal(
        ctx,
        { names, goal: opts.purge ? 'purge' : 'destroy', dryRun: opts.dryRun },
        // The host key belonged to the deleted disk.
        opts.purge ? (rt) => retireAgentHostKeys(ctx, rt, names) : undefined,
      );
    });
}
