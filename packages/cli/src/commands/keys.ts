import { agentUserKey } from '@agentfleet/app/keys';
import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { printResult } from '../output.js';

export function registerKeys(program: Command): void {
  program
    .command('keys')
    .description("the agent user's own SSH public key, read from the VM (e.g. to add it to GitHub)")
    .argument('<name>', 'agent')
    .action(async (name: string, _opts, command: Command) => {
      const ctx = contextOf(command);
      const { user, publicKey } = await agentUserKey(ctx, name);
      printResult(ctx, publicKey, { agent: name, user, publicKey });
    });
}
