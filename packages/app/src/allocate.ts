import type { Ledger } from '@agentfleet/core';
import type { AppContext } from './context.js';
import { readFleet } from './fleet-files.js';
import { regenerateAgentsJson } from './nix-data.js';

/**
 * `fleet allocate`: ports, cores and MACs for new agents, checked against this machine's listeners
 * and every libvirt domain on each local URI (remote hosts keep their recorded entries), recorded
 * in the ledger; hosts/agents.json regenerated.
 */
export async function allocateFleet(ctx: AppContext): Promise<Ledger> {
  const fleet = readFleet(ctx.dir);
  // libvirt (a native addon) loads only once the files are known to be valid.
  const { allocateLedger, Connections } = await import('./runtime.js');
  const connections = new Connections();
  try {
    const { ledger } = await allocateLedger(ctx, fleet, connections, true, 'all');
    regenerateAgentsJson(ctx, fleet);
    return ledger;
  } finally {
    await connections.closeAll();
  }
}
