import type { Provisioner } from '@agentfleet/core';
import { describeFailure } from './failure.js';
import { type ProvisionDeps, provisionAgent } from './provision-agent.js';

export type ProvisionerDeps = Omit<ProvisionDeps, 'store' | 'reporter'> & {
  /** Names of the secrets an agent gets (its spec's `secrets`). */
  secretsOf(agent: string): readonly string[];
};

/** The engine's hand-over point after "ssh ready": `fleet up` continues into provisioning here. */
export class FleetProvisioner implements Provisioner {
  constructor(private readonly deps: ProvisionerDeps) {}

  async provision(agent: string, ctx: Parameters<Provisioner['provision']>[1]): Promise<void> {
    const result = await provisionAgent(
      {
        ...this.deps,
        store: ctx.store,
        reporter: {
          step: (_agent, step, event) => ctx.progress(`${step} ${event === 'start' ? '...' : 'done'}`),
          line: (_agent, line) => ctx.progress(`| ${line}`),
        },
      },
      { agent, secrets: this.deps.secretsOf(agent) },
    );
    if (!result.ok) throw new Error(describeFailure(result));
  }
}
