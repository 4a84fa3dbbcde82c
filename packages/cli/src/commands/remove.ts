import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { readFleetSources } from '@agentfleet/app/fleet-files';
import { forgetProvisioning, retireAgentHostKeys } from '@agentfleet/app/host-keys';
import { regenerateAgentsJson } from '@agentfleet/app/nix-data';
import { allocateLedger } from '@agentfleet/app/runtime';
import { loadFleet } from '@agentfleet/core';
import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { ValidationError } from '../errors.js';
import { agentHandle } from './agent-files.js';
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
    .action(async (name: string, opts: { purge: boolean; yes: boolean }, command: Command) => {
      const ctx = contextOf(command);
      const h = agentHandle(ctx, name);
      const file = h.agent.file;
      const rest = loadFleet(readFleetSources(ctx.dir).filter((s) => s.path !== file));
      if (!rest.ok) throw new ValidationError(rest.diagnostics);
      const remaining = rest.value;
      await applyGoal(
        ctx,
        {
          names: [name],
          goal: opts.purge ? 'purge' : 'destroy',
          dryRun: false,
          confirm: confirmDeletion(`fleet remove${opts.purge ? ' --purge' : ''}`, opts.yes, [
            `${name}: delete ${file} and its ledger entry`,
          ]),
        },
        async (rt) => {
          // Domain gone: its host key stops being a recipient first (agents.json still names the
          // agent then, so the rules see the key go), then the declaration, allocation, Nix data.
          printRetiredHostKeys(ctx, await retireAgentHostKeys(ctx, rt, [name]));
          if (!opts.purge) await forgetProvisioning(rt, name);
          rmSync(join(ctx.dir, file));
          await allocateLedger(ctx, remaining, rt.connections, true);
          regenerateAgentsJson(ctx, remaining);
          if (!ctx.json) process.stdout.write(`removed ${file} and its ledger entry\n`);
        },
      );
    });
}
