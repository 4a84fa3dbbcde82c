import { hostBuildOf, provisionerDeps } from '@agentfleet/app/provisioning';
import type { BuildOn } from '@agentfleet/core';
import {
  bookProvisionStore,
  describeFailure,
  JsonStateStore,
  rebuildAgents,
  StateBook,
  selectedAgents,
  stateFile,
} from '@agentfleet/engine';
import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { printResult } from '../output.js';
import { agentNames } from './agent-name.js';
import { buildOnOption } from './build-on.js';
import { stderrReporter } from './provision.js';
import { openRuntime } from './runtime.js';
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
      const rt = await openRuntime(ctx, {
        names,
        writeLedger: false,
        lock: `fleet ${process.argv.slice(2).join(' ')}`,
        syncAgentsJson: true,
      });
      try {
        const book = await StateBook.open(new JsonStateStore(stateFile(rt.stateDir)));
        const agents = selectedAgents(rt.run).map((a) => a.name);
        const host = await hostBuildOf(ctx, rt, opts.buildOn);
        const outcomes = await rebuildAgents(
          {
            ...provisionerDeps(ctx, rt),
            store: bookProvisionStore(book),
            line: stderrReporter.line,
            ...(host && { host }),
          },
          agents,
          opts.concurrency,
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
      } finally {
        await rt.close();
      }
    });
}
