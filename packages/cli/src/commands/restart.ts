import { agentShells } from '@agentfleet/app/agent-shells';
import { guestNetworks } from '@agentfleet/app/runtime';
import { restartAgents } from '@agentfleet/engine';
import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { printNote, printResult } from '../output.js';
import { agentNames } from './agent-name.js';
import { openRuntime } from './runtime.js';
import { positiveInt } from './up.js';

export function registerRestart(program: Command): void {
  program
    .command('restart')
    .description(
      'ACPI reboot of running agents (powered off and started if the guest does not go down within bootTimeouts.shutdownSeconds); ports, pins, host key and passt stay',
    )
    .argument('[names...]', 'agents (default: all)', agentNames)
    .option('-c, --concurrency <n>', 'agents restarted at once', positiveInt, 4)
    .option('--timeout <seconds>', 'seconds the guest gets to go down before it is forced', positiveInt)
    .addHelpText('after', '\nExamples:\n  fleet restart drago\n  fleet restart --timeout 30   # every agent')
    .action(async (names: string[], opts: { concurrency: number; timeout?: number }, command: Command) => {
      const ctx = contextOf(command);
      const rt = await openRuntime(ctx, {
        names,
        writeLedger: false,
        lock: `fleet ${process.argv.slice(2).join(' ')}`,
        startsAgents: true,
      });
      try {
        const agents = names.length > 0 ? names : rt.fleet.agents.map((a) => a.name);
        const outcomes = await restartAgents(
          rt.run,
          agents,
          {
            connect: rt.connections.connect,
            networks: guestNetworks(rt),
            shells: await agentShells(rt),
            log: ctx.log,
            note: (agent, message) => printNote(`${agent}: ${message}`),
          },
          {
            concurrency: opts.concurrency,
            ...(opts.timeout !== undefined && { shutdownSeconds: opts.timeout }),
          },
        );
        const human = outcomes
          .map((o) =>
            o.ok ? `${o.agent}: restarted${o.forced ? ' (forced)' : ''}` : `${o.agent}: FAILED: ${o.error}`,
          )
          .join('\n');
        const failed = outcomes.filter((o) => !o.ok).map((o) => o.agent);
        const error =
          failed.length > 0
            ? { code: 'failed' as const, message: `restart failed for ${failed.join(', ')}` }
            : undefined;
        printResult(ctx, human || 'no agents', { agents: outcomes }, error);
        if (outcomes.some((o) => !o.ok)) process.exitCode = 1;
      } finally {
        await rt.close();
      }
    });
}
