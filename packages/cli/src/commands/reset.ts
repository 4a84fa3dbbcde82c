import { createInterface } from 'node:readline/promises';
import { resetDisks } from '@agentfleet/app/reset';
import type { Runtime } from '@agentfleet/app/runtime';
import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { printNote } from '../output.js';
import { agentName } from './agent-name.js';
import { applyGoal } from './apply-goal.js';

/**
 * Asks before a disk goes (yes with --yes; on a terminal, ask; otherwise refuse with exit 2), then,
 * under the run's lock, resets each agent's disk keeping its identity; `up` follows.
 */
export function resetBefore(command: string, names: string[], yes: boolean): (rt: Runtime) => Promise<void> {
  return async (rt) => {
    const lines = names.map(
      (n) => `  ${n}: disk ${rt.stateDir}/agent-${n}.qcow2 and its snapshots (host key and secrets kept)`,
    );
    if (!yes) {
      if (!process.stdin.isTTY || !process.stderr.isTTY) {
        throw new UsageError(
          `${command} would delete:\n${lines.join('\n')}\nnot a terminal, so not asking: run again with --yes to confirm`,
        );
      }
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        const answer = await rl.question(`${command} will delete:\n${lines.join('\n')}\nProceed? [y/N] `);
        if (!/^y(es)?$/i.test(answer.trim()))
          throw new UsageError(`${command}: not confirmed, nothing changed`);
      } finally {
        rl.close();
      }
    }
    await resetDisks(rt, names, (name, r) =>
      printNote(
        `${name}: disk removed; host key ${r.hostKey.slice(0, 30)}... ${r.took === 'guest' ? 'taken from the guest and ' : ''}handed to the new disk`,
      ),
    );
  };
}

export function registerReset(program: Command): void {
  program
    .command('reset')
    .description(
      "an agent's disk back to the base image, keeping its identity (host key, pin, secrets); provisioning reruns",
    )
    .argument('<name>', 'agent', agentName)
    .option('-y, --yes', 'do not ask before deleting the disk')
    .option('--no-provision', 'stop at "ssh ready" after the new disk boots')
    .addHelpText(
      'after',
      `
What happens: fleet keeps the agent's SSH host key (reads it from the guest over the pinned session,
so the agent must be running then: the key lives only in the guest once it has presented it; only a
key fleet made whose guest never answered is still on the host), stops the domain, deletes its
snapshots and disk, and runs \`fleet up NAME\`: a new disk from baseImage, the same key handed over
through fw_cfg at first boot, provisioning again. known_hosts, secrets/hosts/NAME.pub and the
secrets encrypted to the agent stay valid. Everything else on the disk is gone.

Examples:
  fleet reset drago --yes
  fleet up --rebase drago     # the same after baseImage changed (the plan says BLOCKED/rebase)`,
    )
    .action(async (name: string, opts: { yes?: boolean; provision: boolean }, command: Command) => {
      await applyGoal(contextOf(command), {
        names: [name],
        goal: 'up',
        dryRun: false,
        provision: opts.provision,
        before: resetBefore('reset', [name], opts.yes === true),
      });
    });
}
