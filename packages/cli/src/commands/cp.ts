import { copyWithAgent } from '@agentfleet/app/copy';
import { copyRequest } from '@agentfleet/core';
import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { printResult } from '../output.js';

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
      const landed = await copyWithAgent(ctx, req, opts.recursive === true);
      printResult(
        ctx,
        `copied ${req.direction === 'upload' ? req.local : `${req.agent}:${req.remote}`} -> ${landed}`,
        { ...req, landed },
      );
    });
}
