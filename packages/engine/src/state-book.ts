import type { AgentRuntime, FleetState, StateStore } from '@agentfleet/core';
import { DamagedStateError, emptyFleetState } from '@agentfleet/core/plan/state';

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

  /**
   * `onDamage`: for a run that writes nothing (a plan), a damaged state.json reads as empty and
   * the damage is handed here to be reported; without it, the damage is the run's error.
   */
  static async open(store: StateStore, onDamage?: (err: DamagedStateError) => void): Promise<StateBook> {
    try {
      return new StateBook(store, await store.load());
    } catch (err) {
      if (!onDamage || !(err instanceof DamagedStateError)) throw err;
      onDamage(err);
      return new StateBook(store, emptyFleetState());
    }
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
    await this.persist(agent);
  }

  async forget(agent: string): Promise<void> {
    delete this.state.agents[agent];
    await this.persist(agent);
  }

  /**
   * A failed write (disk full, read-only) fails the step of the agent whose change it carried, named; the writes
   * queued after it still run, so the other agents go on (a later successful write also records this change).
   */
  private persist(agent: string): Promise<void> {
    const snapshot = structuredClone(this.state);
    const write = this.writes.then(() => this.store.save(snapshot));
    this.writes = write.catch(() => {});
    return write.catch((err: unknown) => {
      throw new Error(`recording agent ${agent}'s progress failed: ${(err as Error).message}`, {
        cause: err,
      });
    });
  }
}
