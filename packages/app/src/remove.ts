import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Fleet, loadFleet } from '@agentfleet/core';
import type { AppContext } from './context.js';
import { ValidationError } from './errors.js';
import { readFleetSources } from './fleet-files.js';
import type { FollowUpWork } from './goal.js';
import {
  forgetProvisioning,
  type RetiredHostKeys,
  retireAgentHostKeys,
  retireFollowUps,
} from './host-keys.js';
import { regenerateAgentsJson } from './nix-data.js';
import { allocateLedger, type Runtime } from './runtime.js';

/** An agent to remove: its YAML file and the fleet without it (checked valid before anything goes). */
export interface Removal {
  name: string;
  file: string;
  remaining: Fleet;
}

export function removalOf(ctx: AppContext, name: string, file: string): Removal {
  const rest = loadFleet(readFleetSources(ctx.dir).filter((s) => s.path !== file));
  if (!rest.ok) throw new ValidationError(rest.diagnostics);
  return { name, file, remaining: rest.value };
}

/**
 * `remove`'s work once the agent's domain is gone (runGoal's `after`, under the same lock): its
 * host key stops being a recipient first (agents.json still names the agent then, so the rules
 * see the key go), then the declaration, allocation and Nix data go.
 */
export async function finishRemoval(
  ctx: AppContext,
  rt: Runtime,
  removal: Removal,
  purge: boolean,
): Promise<RetiredHostKeys> {
  const retired = await retireAgentHostKeys(ctx, rt, [removal.name]);
  if (!purge) await forgetProvisioning(rt, removal.name);
  rmSync(join(ctx.dir, removal.file));
  await allocateLedger(ctx, removal.remaining, rt.connections, true, []);
  regenerateAgentsJson(ctx, removal.remaining);
  return retired;
}

/**
 * `remove`'s follow-ups, for the plan (retire the host key, forget the agent) and to do them
 * (finishRemoval) as runGoal's `after`.
 */
export function removalWork(
  ctx: AppContext,
  removal: Removal,
  purge: boolean,
): FollowUpWork<RetiredHostKeys> {
  const reasons = [`delete ${removal.file}, its ledger entry and its entry in hosts/agents.json`];
  if (!purge)
    reasons.push('forget its provisioning progress (the disk stays; declared again, it provisions again)');
  return {
    followUps: [
      ...retireFollowUps(ctx, [removal.name]),
      { kind: 'forget-agent', agent: removal.name, file: removal.file, reasons },
    ],
    run: (rt) => finishRemoval(ctx, rt, removal, purge),
  };
}
