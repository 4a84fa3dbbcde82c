import { agentShells } from '@agentfleet/app/agent-shells';
import { copyRequest } from '@agentfleet/core';
import { CopyRefusedError, copyFiles, type FileTransfer } from '@agentfleet/engine';
import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { printResult } from '../output.js';
import { openRuntime } from './runtime.js';

export function registerCp(program: Command): void {
  program
    .command('cp')
    .description("copy files between the host and an agent over fleet's pinned SSH (SFTP)")
    .argument('<src>', 'PATH or AGENT:PATH')
    .argument('<dst>', 'PATH or AGENT:PATH')
    .option('-r, --recursive', 'copy directories')
    .addHelpText(
      'after',
      `
One side is AGENT:PATH (a relative PATH is under the login user's home). As with scp, a destination
that is an existing directory receives the source under its own name. The session checks the
agent's pinned host key, like fleet ssh.

Examples:
  fleet cp ./notes.md drago:/tmp/
  fleet cp drago:/var/log/agentfleet-hostkey.log .
  fleet cp -r ./project drago:work/project
  fleet cp -r drago:work/project ./from-drago`,
    )
    .action(async (src: string, dst: string, opts: { recursive?: boolean }, command: Command) => {
      const ctx = contextOf(command);
      const req = copyRequest(src, dst);
      if ('problem' in req) throw new UsageError(req.problem);
      const rt = await openRuntime(ctx, { names: [req.agent], writeLedger: false, syncAgentsJson: false });
      try {
        const shells = await agentShells(rt);
        const pinned = await shells.pinnedKey(req.agent);
        if (!pinned)
          throw new UsageError(
            `no pinned host key for '${req.agent}' yet: run 'fleet up ${req.agent}' first`,
          );
        // The connector's sessions are packages/ssh SshShells, which carry SFTP transfers beyond the core port.
        const shell = (await shells.connector.connect(req.agent, {
          pinnedHostKey: pinned,
        })) as unknown as FileTransfer & {
          close(): Promise<void>;
        };
        try {
          const landed = await copyFiles(shell, req, opts.recursive === true);
          printResult(
            ctx,
            `copied ${req.direction === 'upload' ? req.local : `${req.agent}:${req.remote}`} -> ${landed}`,
            {
              ...req,
              landed,
            },
          );
        } catch (err) {
          if (err instanceof CopyRefusedError) throw new UsageError(err.message);
          throw err;
        } finally {
          await shell.close();
        }
      } finally {
        await rt.close();
      }
    });
}
