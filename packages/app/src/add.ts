import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '@agentfleet/atomic-file';
import { type Allocation, loadFleet, recordedPlacements } from '@agentfleet/core';
import { acquireLock, lockFile } from '@agentfleet/engine';
import type { AppContext } from './context.js';
import { UsageError, ValidationError } from './errors.js';
import { expandPath, readFleet, readFleetSources } from './fleet-files.js';
import { regenerateAgentsJson } from './nix-data.js';
import { allocateLedger, Connections, writeLedger } from './runtime.js';

export interface AddedAgent {
  /** agents/<name>.yaml, relative to the fleet directory. */
  file: string;
  allocation: Allocation | undefined;
}

/**
 * `fleet add`: the fleet with agents/<name>.yaml holding `text` is validated before anything is
 * written; then, under the state dir's lock, the agent is allocated and its file, the ledger and
 * hosts/agents.json are written.
 */
export async function addAgent(
  ctx: AppContext,
  name: string,
  text: string,
  holder: string,
): Promise<AddedAgent> {
  const file = `agents/${name}.yaml`;
  if (existsSync(join(ctx.dir, file))) throw new UsageError(`${file} already exists`);
  const loaded = loadFleet([...readFleetSources(ctx.dir), { path: file, text }]);
  if (!loaded.ok) throw new ValidationError(loaded.diagnostics);
  const fleet = loaded.value;
  const release = await acquireLock(
    lockFile(expandPath(ctx.dir, readFleet(ctx.dir).config.stateDir)),
    holder,
  );
  const connections = new Connections();
  try {
    const { ledger } = await allocateLedger(ctx, fleet, connections, false, []);
    writeFileAtomicSync(join(ctx.dir, file), text);
    writeLedger(ctx, ledger);
    regenerateAgentsJson(ctx, fleet);
    const agent = recordedPlacements(fleet, ledger).agents.find((a) => a.name === name);
    return { file, allocation: agent && ledger.hosts[agent.libvirtUri]?.[name] };
  } finally {
    await connections.closeAll();
    await release();
  }
}
