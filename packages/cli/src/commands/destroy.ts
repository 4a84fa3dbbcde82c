import { purgeWork } from '@agentfleet/app/host-keys';
import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { collectIdentity, IDENTITY_HELP } from '../identity-option.js';
import { agentNames } from './agent-name.js';
import { applyGoal } from './apply-goal.js';
import { confirmDeletion } from './confirm.js';
import { printRetiredHostKeys } from './retired-keys.js';

export function registerDestroy(program: Command): void {
  program
    .command('destroy')
    .description(
      'shut down (ACPI, then forced) and undefine agents; --purge also deletes their disks, logs and keys',
    )
    .argument('<names...>', 'agents', agentNames)
    .option('--purge', 'also delete the disk (cannot be undone)', false)
    .option('--dry-run', 'show the plan only', false)
    .option('-y, --yes', 'do not ask (needed when stdin is not a terminal)', false)
    .option('-i, --identity <file>', IDENTITY_HELP, collectIdentity, [])
    .action(
      async (names: string[], opts: { purge: boolean; dryRun: boolean; yes: boolean }, command: Command) => {
        const ctx = contextOf(command);
        // The host key belonged to the deleted disk.
        const work = opts.purge ? purgeWork(ctx, names) : undefined;
        await applyGoal(
          ctx,
          {
            names,
            goal: opts.purge ? 'purge' : 'destroy',
            dryRun: opts.dryRun,
            confirm: confirmDeletion(`fleet destroy${opts.purge ? ' --purge' : ''}`, opts.yes),
            ...(work && { followUps: work.followUps }),
          },
          work && (async (rt) => printRetiredHostKeys(ctx, await work.run(rt))),
        );
      },
    );
}
