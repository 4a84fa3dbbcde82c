import { type AgentShells, JsonStateStore, StateBook, stateFile } from '@agentfleet/engine';
import { agentConnector } from './agent-connector.js';
import type { Runtime } from './runtime.js';

/** Fleet's pinned SSH to the runtime's agents: the login user and key, the host keys state.json pinned. */
export async function agentShells(rt: Runtime): Promise<AgentShells> {
  const book = await StateBook.open(new JsonStateStore(stateFile(rt.stateDir)));
  return { connector: agentConnector(rt), pinnedKey: async (agent) => book.get(agent)?.hostKey };
}
