// `fleet restart`: an ACPI reboot of running agents, under the state dir's lock.
import { type RestartOutcome, restartAgents } from '@agentfleet/engine';
import { agentShells } from './agent-shells.js';
import { type AppContext, note } from './context.js';
import type { LockHolder } from './provision.js';
import { guestNetworks, openRuntime } from './runtime.js';

/**
 * Reboots each named agent (default: all), `concurrency` at once; a guest still up after
 * `shutdownSeconds` (default: fleet's bootTimeouts.shutdownSeconds) is forced. Progress lines go
 * to the context's `note` as `<agent>: <what happens>`.
 */
export async function restartFleet(
  ctx: AppContext,
  req: { names: string[]; concurrency: number; shutdownSeconds?: number },
  lock: LockHolder,
): Promise<RestartOutcome[]> {
  const rt = await openRuntime(ctx, {
    names: req.names,
    writeLedger: false,
    lock: lock.holder,
    ...(lock.guard && { guard: lock.guard }),
    startsAgents: true,
    // One agent's port held by an outsider fails that agent's restart, not the others'.
    heldBlocksAgent: true,
  });
  try {
    const agents = req.names.length > 0 ? req.names : rt.fleet.agents.map((a) => a.name);
    return await restartAgents(
      rt.run,
      agents,
      {
        connect: rt.connections.connect,
        networks: guestNetworks(rt),
        shells: await agentShells(rt),
        log: ctx.log,
        note: (agent, message) => note(ctx, `${agent}: ${message}`),
      },
      {
        concurrency: req.concurrency,
        ...(req.shutdownSeconds !== undefined && { shutdownSeconds: req.shutdownSeconds }),
      },
    );
  } finally {
    await rt.close();
  }
}
