import { isLocalUri } from '@agentfleet/core/ssh/host-ssh';
import { tailFile } from '@agentfleet/engine';
import { shq } from '@agentfleet/engine/provision/shell-quote';
import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { printResult } from '../output.js';
import { agentHandle, consoleLogOf } from './agent-files.js';
import { agentName } from './agent-name.js';
import { HostAccess } from './host-access.js';
import { positiveInt } from './up.js';

async function remoteTail(uri: string, path: string, lines: number): Promise<string[]> {
  const hosts = new HostAccess();
  try {
    const text = await hosts.run(uri, `tail -n ${lines} -- ${shq(path)} 2>/dev/null || true`);
    const all = text.replace(/\r/g, '').split('\n');
    if (all.at(-1) === '') all.pop();
    return all;
  } finally {
    await hosts.closeAll();
  }
}

export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description("an agent's serial console log")
    .argument('<name>', 'agent', agentName)
    .option('-n, --lines <n>', 'last N lines', positiveInt, 200)
    .action(async (name: string, opts: { lines: number }, command: Command) => {
      const ctx = contextOf(command);
      const h = agentHandle(ctx, name);
      const path = consoleLogOf(h);
      const uri = h.agent.libvirtUri;
      // A remote agent's console log is written by its host's virtlogd: read it there, over the host's SSH.
      const lines = isLocalUri(uri)
        ? await tailFile(path, opts.lines, 8 * 1024 * 1024)
        : await remoteTail(uri, path, opts.lines);
      printResult(ctx, lines.length ? lines.join('\n') : `(no console output yet in ${path})`, {
        path,
        lines,
      });
    });
}
