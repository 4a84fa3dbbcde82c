// `fleet provision` and `fleet rebuild`: provisioning of agents that already answer SSH, under the
// state dir's lock, outside a plan.
import type { BuildOn, ProvisioningStep } from '@agentfleet/core';
import {
  bookProvisionStore,
  JsonStateStore,
  type ProvisionReporter,
  type ProvisionResult,
  provisionAgent,
  type RebuildOutcome,
  rebuildAgents,
  StateBook,
  selectedAgents,
  stateFile,
} from '@agentfleet/engine';
import type { AppContext } from './context.js';
import { UsageError } from './errors.js';
import { hostBuildOf, provisionerDeps } from './provisioning.js';
import { openRuntime, type RunGuard } from './runtime.js';
import { refreshSshFiles } from './ssh-files.js';

/** Who holds the lock, and what the front-end does while it is held (see RuntimeOptions). */
export interface LockHolder {
  holder: string;
  guard?: (release: () => Promise<void>) => RunGuard;
}

export interface ProvisionOneRequest {
  name: string;
  /** Redo this step and every step after it. */
  from?: ProvisioningStep;
  /** Accept the agent's new host key (VM recreated, confirmed by the user), re-capture it and rekey. */
  rekey?: boolean;
  buildOn?: BuildOn;
}

/** Provisions one agent that has answered SSH before, resuming where it stopped. */
export async function provisionOne(
  ctx: AppContext,
  req: ProvisionOneRequest,
  lock: LockHolder,
  reporter: ProvisionReporter,
): Promise<ProvisionResult> {
  const { name } = req;
  const rt = await openRuntime(ctx, {
    names: [name],
    writeLedger: false,
    lock: lock.holder,
    ...(lock.guard && { guard: lock.guard }),
    syncAgentsJson: true,
  });
  try {
    const agent = rt.fleet.agents.find((a) => a.name === name);
    if (!agent) throw new UsageError(`no agent named '${name}'`);
    const book = await StateBook.open(new JsonStateStore(stateFile(rt.stateDir)));
    if (book.get(name)?.hostKey === undefined) {
      throw new UsageError(`${name} has never answered SSH: run 'fleet up ${name}' first`);
    }
    const host = await hostBuildOf(ctx, rt, req.buildOn);
    const result = await provisionAgent(
      {
        ...provisionerDeps(ctx, rt),
        store: bookProvisionStore(book),
        reporter,
        ...(host && { host }),
      },
      {
        agent: name,
        secrets: agent.secrets,
        ...(req.from !== undefined && { from: req.from }),
        ...(req.rekey && { rekey: true }),
      },
    );
    await refreshSshFiles(rt);
    return result;
  } finally {
    await rt.close();
  }
}

/** nixos-rebuild switch in each named agent (default: all), `concurrency` at once. */
export async function rebuildFleet(
  ctx: AppContext,
  req: { names: string[]; concurrency: number; buildOn?: BuildOn },
  lock: LockHolder,
  line: ProvisionReporter['line'],
): Promise<RebuildOutcome[]> {
  const rt = await openRuntime(ctx, {
    names: req.names,
    writeLedger: false,
    lock: lock.holder,
    ...(lock.guard && { guard: lock.guard }),
    syncAgentsJson: true,
  });
  try {
    const book = await StateBook.open(new JsonStateStore(stateFile(rt.stateDir)));
    const agents = selectedAgents(rt.run).map((a) => a.name);
    const host = await hostBuildOf(ctx, rt, req.buildOn);
    return await rebuildAgents(
      {
        ...provisionerDeps(ctx, rt),
        store: bookProvisionStore(book),
        line,
        ...(host && { host }),
      },
      agents,
      req.concurrency,
    );
  } finally {
    await rt.close();
  }
}
