import { spawn } from 'node:child_process';
import { sshTarget } from '@agentfleet/app/ssh';
import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { agentName } from './agent-name.js';

export function registerSsh(program: Command): void {
  program
    .command('ssh')
    .description('ssh to an agent with its pinned host key (runs: ssh -F <stateDir>/ssh_config <name> ...)')
    .argument('<name>', 'agent', agentName)
    .argument('[command...]', 'remote command (after --)')
    .addHelpText(
      'after',
      '\nA command gets a TTY when stdin is one (so interactive programs work), none when it is piped.\n' +
        'Examples:\n  fleet ssh drago\n  fleet ssh drago -- tmux attach\n  fleet ssh drago -- cat /etc/os-release > os.txt',
    )
    .action(async (name: string, remote: string[], _opts, command: Command) => {
      const ctx = contextOf(command);
      if (ctx.json)
        throw new UsageError(
          'fleet ssh is a session, not a result: it has no --json',
          'use `fleet --json exec NAME -- CMD`',
        );
      const { sshConfig, host } = await sshTarget(ctx, name);
      // The user's own ssh, so agent forwarding, ControlMaster, escape keys etc. behave as usual.
      // A command from a terminal gets a TTY (`-- tmux attach`); piped, none, so its output stays byte-exact.
      const tty = remote.length === 0 ? [] : process.stdin.isTTY ? ['-t'] : ['-T'];
      const args = ['-F', sshConfig, ...tty, host, ...remote];
      ctx.log.debug({ args }, 'exec ssh');
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn('ssh', args, { stdio: 'inherit' });
        child.on('error', reject);
        child.on('exit', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
      });
      process.exitCode = code;
    });
}
