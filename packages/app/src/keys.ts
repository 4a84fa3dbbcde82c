import {
  bookProvisionStore,
  JsonStateStore,
  readAgentUserKey,
  StateBook,
  sshUserOf,
  stateFile,
} from '@agentfleet/engine';
import { agentConnector } from './agent-connector.js';
import type { AppContext } from './context.js';
import { UsageError } from './errors.js';
import { openRuntime } from './runtime.js';

/** The agent user's own SSH public key, read from the VM over the pinned session (e.g. for GitHub). */
export async function agentUserKey(
  ctx: AppContext,
  name: string,
): Promise<{ user: string; publicKey: string }> {
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
    return { user: agent.user, publicKey };
  } finally {
    await rt.close();
  }
}
