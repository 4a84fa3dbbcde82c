import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { writeFileAtomic } from '../atomic-write.js';
import { contextOf } from '../context.js';
import { printResult } from '../output.js';
import { agentHandle, domainOf } from './agent-files.js';
import { agentName } from './agent-name.js';

export function registerSpice(program: Command): void {
  program
    .command('spice')
    .description('open the SPICE display of an agent with remote-viewer')
    .argument('<name>', 'agent', agentName)
    .option('--print', 'print the spice:// URI instead of opening a viewer', false)
    .option('--vv <file>', 'write a virt-viewer connection file instead of opening a viewer')
    .action(async (name: string, opts: { print: boolean; vv?: string }, command: Command) => {
      const ctx = contextOf(command);
      const h = agentHandle(ctx, name);
      const uri = `spice://127.0.0.1:${h.spicePort}`;
      if (opts.vv) {
        const vv = [
          '[virt-viewer]',
          'type=spice',
          'host=127.0.0.1',
          `port=${h.spicePort}`,
          `title=${domainOf(h)}`,
        ];
        writeFileAtomic(opts.vv, `${vv.join('\n')}\n`);
        printResult(ctx, `wrote ${opts.vv} (open with: remote-viewer ${opts.vv})`, { uri, file: opts.vv });
        return;
      }
      if (opts.print || ctx.json) {
        printResult(ctx, uri, { uri });
        return;
      }
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn('remote-viewer', ['--title', domainOf(h), uri], { stdio: 'inherit' });
        child.on('error', (err) =>
          reject(new Error(`cannot run remote-viewer (${err.message}); install virt-viewer or use --print`)),
        );
        child.on('exit', (c) => resolve(c ?? 1));
      });
      process.exitCode = code;
    });
}
