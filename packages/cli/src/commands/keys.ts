import { agentConnector } from '@agentfleet/app/provisioning';
import {
  bookProvisionStore,
  JsonStateStore,
  readAgentUserKey,
  StateBook,
  sshUserOf,
  stateFile,
} from '@agentfleet/engine';
import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { printResult } from '../output.js';
import { openRuntime } from './runtime.js';

export function registerKeys(program: Command): void {
  program
    .command('keys')
    .description("the agent user's own SSH public key, read from the VM (e.g. to add it to GitHub)")
    .argument('<name>', 'agent')
    .action(async (name: string, _opts, command: Command) => {
      const ctx = contextOf(command);
      const rt = await openRuntime(ctx, { names: [name], writeLedger: false, syncAgentsJson: false });
      try {
        const agent = rt.fleet.agents.find((a) => a.name === name);
        if (!agent) throw new UsageError(`no agent named '${name}'`);
        const book = await StateBook.open(new JsonStateStore(stateFile(rt.stateDir)));
        const publicKey = await readAgentUserKey(agentConnector(rt), bookProvisionStore(book), {
          agent: name,
          user: agent.user,
          sudo: sshUserOf(rt.run, agent) !== 'root',
        });
        printResult(ctx, publicKey, { agent: name, user: agent.user, publicKey });
      } finally {
        await rt.close();
      }
    });
}
