import { restartFleet } from '@agentfleet/app/restart';
import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { printResult } from '../output.js';
import { agentNames } from './agent-name.js';
import { lockHolder } from './runtime.js';
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
      const outcomes = await restartFleet(
        ctx,
        {
          names,
          concurrency: opts.concurrency,
          ...(opts.timeout !== undefined && { shutdownSeconds: opts.timeout }),
        },
        lockHolder(ctx, `fleet ${process.argv.slice(2).join(' ')}`),
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
    });
}
