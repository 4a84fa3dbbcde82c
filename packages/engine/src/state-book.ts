import type { AgentRuntime, FleetState, StateStore } from '@agentfleet/core';

/**
 * The run's view of state.json. Agents progress concurrently; every change is applied to the
 * in-memory copy and persisted in order, one atomic write at a time.
 */
export class StateBook {
  private writes: Promise<void> = Promise.resolve();

  private constructor(
    private readonly store: StateStore,
    private readonly state: FleetState,
  ) {}

  static async open(store: StateStore): Promise<StateBook> {
    return new StateBook(store, await store.load());
  }

  get(agent: string): AgentRuntime | undefined {
    return this.state.agents[agent];
  }

  all(): Readonly<Record<string, AgentRuntime>> {
    return this.state.agents;
  }

  async update(agent: string, change: Partial<AgentRuntime>): Promise<void> {
    const prev = this.state.agents[agent] ?? { phase: 'declared', updatedAt: '' };
    this.state.agents[agent] = { ...prev, ...change, updatedAt: new Date().toISOString() };
    await this.persist();
  }

  async forget(agent: string): Promise<void> {
    delete this.state.agents[agent];
    await this.persist();
  }

  private persist(): Promise<void> {
    const snapshot = structuredClone(this.state);
    this.writes = this.writes.then(() => this.store.save(snapshot));
    return this.writes;
  }
}
