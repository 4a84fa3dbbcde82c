import { declaredAgent } from '@agentfleet/app/agent-handle';
import { removalOf, removalWork } from '@agentfleet/app/remove';
import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { collectIdentity, IDENTITY_HELP } from '../identity-option.js';
import { agentName } from './agent-name.js';
import { applyGoal } from './apply-goal.js';
import { confirmDeletion } from './confirm.js';
import { printRetiredHostKeys } from './retired-keys.js';

export function registerRemove(program: Command): void {
  program
    .command('remove')
    .description('destroy an agent and delete its YAML and ledger entry (the disk stays unless --purge)')
    .argument('<name>', 'agent', agentName)
    .option('--purge', 'also delete the disk, logs and keys', false)
    .option('-y, --yes', 'do not ask (needed when stdin is not a terminal)', false)
    .option('-i, --identity <file>', IDENTITY_HELP, collectIdentity, [])
    .action(async (name: string, opts: { purge: boolean; yes: boolean }, command: Command) => {
      const ctx = contextOf(command);
      const h = declaredAgent(ctx, name);
      const removal = removalOf(ctx, name, h.agent.file);
      const work = removalWork(ctx, removal, opts.purge);
      await applyGoal(
        ctx,
        {
          names: [name],
          goal: opts.purge ? 'purge' : 'destroy',
          dryRun: false,
          confirm: confirmDeletion(`fleet remove${opts.purge ? ' --purge' : ''}`, opts.yes, [
            `${name}: delete ${removal.file} and its ledger entry`,
          ]),
          followUps: work.followUps,
        },
        async (rt) => {
          printRetiredHostKeys(ctx, await work.run(rt));
          if (!ctx.json) process.stdout.write(`removed ${removal.file} and its ledger entry\n`);
        },
      );
    });
}
