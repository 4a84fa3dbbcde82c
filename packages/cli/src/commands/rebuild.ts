import { rebuildFleet } from '@agentfleet/app/provision';
import type { BuildOn } from '@agentfleet/core';
import { describeFailure } from '@agentfleet/engine';
import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { printResult } from '../output.js';
import { agentNames } from './agent-name.js';
import { buildOnOption } from './build-on.js';
import { drawsOnTerminal, provisionProgress } from './progress.js';
import { lockHolder } from './runtime.js';
import { positiveInt } from './up.js';

export function registerRebuild(program: Command): void {
  program
    .command('rebuild')
    .description(
      'nixos-rebuild switch in each agent after a config change, several at once, output prefixed per agent',
    )
    .argument('[names...]', 'agents (default: all)', agentNames)
    .option('-c, --concurrency <n>', 'agents rebuilt at once', positiveInt, 4)
    .addOption(buildOnOption())
    .action(async (names: string[], opts: { concurrency: number; buildOn?: BuildOn }, command: Command) => {
      const ctx = contextOf(command);
      const outcomes = await rebuildFleet(
        ctx,
        {
          names,
          concurrency: opts.concurrency,
          ...(opts.buildOn !== undefined && { buildOn: opts.buildOn }),
        },
        lockHolder(ctx, `fleet ${process.argv.slice(2).join(' ')}`),
        (agents) => provisionProgress({ interactive: drawsOnTerminal(ctx), agents, steps: 1 }),
      );
      const failed = outcomes.filter((o) => !o.ok);
      const human = outcomes
        .map((o) =>
          o.ok
            ? `${o.agent}: rebuilt`
            : `${o.agent}: FAILED\n  ${describeFailure(o).replaceAll('\n', '\n  ')}`,
        )
        .join('\n');
      printResult(ctx, human, { ok: failed.length === 0, outcomes });
      if (failed.length > 0) process.exitCode = 1;
    });
}
