// `fleet provision` and `fleet rebuild`: provisioning of agents that already answer SSH, under the
// state dir's lock, outside a plan.
import type { BuildOn, ProvisioningStep } from '@agentfleet/core';
import {
  bookProvisionStore,
  describeFailure,
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

/** How a front-end shows provisioning: made once the agents are known, stopped first on a stop. */
export interface ProvisionDisplay {
  reporter: ProvisionReporter;
  /** What an agent does that the reporter has no step for (a rebuild has one). */
  status(agent: string, text: string): void;
  finish(agent: string, error?: string): void;
  stop(): void;
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
  display: (agents: readonly string[]) => ProvisionDisplay,
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
    const progress = display([name]);
    rt.interrupts?.atStop(progress.stop);
    let result: ProvisionResult;
    try {
      result = await provisionAgent(
        {
          ...provisionerDeps(ctx, rt),
          store: bookProvisionStore(book),
          reporter: progress.reporter,
          ...(host && { host }),
        },
        {
          agent: name,
          secrets: agent.secrets,
          ...(req.from !== undefined && { from: req.from }),
          ...(req.rekey && { rekey: true }),
        },
      );
      progress.finish(name, result.ok ? undefined : describeFailure(result));
    } finally {
      progress.stop();
    }
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
  display: (agents: readonly string[]) => ProvisionDisplay,
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
    const progress = display(agents);
    rt.interrupts?.atStop(progress.stop);
    const started = new Set<string>();
    try {
      const outcomes = await rebuildAgents(
        {
          ...provisionerDeps(ctx, rt),
          store: bookProvisionStore(book),
          line: (agent, line) => {
            // Agents beyond --concurrency wait their turn: one rebuilds once its output starts.
            if (!started.has(agent)) progress.status(agent, 'rebuilding...');
            started.add(agent);
            progress.reporter.line(agent, line);
          },
          ...(host && { host }),
        },
        agents,
        req.concurrency,
      );
      for (const o of outcomes) progress.finish(o.agent, o.ok ? undefined : describeFailure(o));
      return outcomes;
    } finally {
      progress.stop();
    }
  } finally {
    await rt.close();
  }
}
