import { tailFile } from '@agentfleet/engine';
import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { printResult } from '../output.js';
import { agentHandle, consoleLogOf } from './agent-files.js';
import { agentName } from './agent-name.js';
import { positiveInt } from './up.js';

export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description("an agent's serial console log")
    .argument('<name>', 'agent', agentName)
    .option('-n, --lines <n>', 'last N lines', positiveInt, 200)
    .action(async (name: string, opts: { lines: number }, command: Command) => {
      const ctx = contextOf(command);
      const path = consoleLogOf(agentHandle(ctx, name));
      const lines = await tailFile(path, opts.lines, 8 * 1024 * 1024);
      printResult(ctx, lines.length ? lines.join('\n') : `(no console output yet in ${path})`, {
        path,
        lines,
      });
    });
}
