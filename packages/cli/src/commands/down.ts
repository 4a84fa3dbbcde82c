import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { agentNames } from './agent-name.js';
import { applyGoal } from './apply-goal.js';
import { positiveInt } from './up.js';

export function registerDown(program: Command): void {
  program
    .command('down')
    .description('ACPI shutdown (forced off after bootTimeouts.shutdownSeconds); disks stay')
    .argument('[names...]', 'agents (default: all)', agentNames)
    .option('-c, --concurrency <n>', 'agents shut down at once', positiveInt, 8)
    .action(async (names: string[], opts: { concurrency: number }, command: Command) => {
      await applyGoal(contextOf(command), {
        names,
        goal: 'down',
        dryRun: false,
        concurrency: opts.concurrency,
      });
    });
}
