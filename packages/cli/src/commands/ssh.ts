import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { agentHandle, sshFilesOf } from './agent-files.js';
import { agentName } from './agent-name.js';

export function registerSsh(program: Command): void {
  program
    .command('ssh')
    .description('ssh to an agent with its pinned host key (runs: ssh -F <stateDir>/ssh_config <name> ...)')
    .argument('<name>', 'agent', agentName)
    .argument('[command...]', 'remote command (after --)')
    .action(async (name: string, remote: string[], _opts, command: Command) => {
      const ctx = contextOf(command);
      const h = agentHandle(ctx, name);
      const { sshConfig } = sshFilesOf(h);
      if (!new RegExp(`^Host ${name}$`, 'm').test(readFileSync(sshConfig, 'utf8'))) {
        throw new UsageError(`no pinned host key for '${name}' yet: run 'fleet up ${name}' first`);
      }
      // The user's own ssh, so agent forwarding, ControlMaster, escape keys etc. behave as usual.
      const args = ['-F', sshConfig, ...(remote.length === 0 ? [] : ['-T']), name, ...remote];
      ctx.log.debug({ args }, 'exec ssh');
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn('ssh', args, { stdio: 'inherit' });
        child.on('error', reject);
        child.on('exit', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
      });
      process.exitCode = code;
    });
}
