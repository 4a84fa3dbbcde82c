import { type ProvisionStore, parseProvisionProgress } from '@agentfleet/core';
import type { StateBook } from '../state-book.js';

/**
 * Provisioning progress kept in the run's state book, so it shares state.json's single ordered
 * stream of atomic writes with the engine's own phases.
 */
export function bookProvisionStore(book: StateBook): ProvisionStore {
  const read = async (agent: string) => parseProvisionProgress(book.get(agent)?.provision, agent);
  return {
    read,
    async update(agent, change) {
      if (book.get(agent) === undefined) throw new Error(`${agent}: no state recorded; run fleet up first`);
      const next = change(await read(agent));
      await book.update(agent, { provision: next });
      return next;
    },
    async pinnedHostKey(agent) {
      return book.get(agent)?.hostKey;
    },
    async pinHostKey(agent, hostKey) {
      // The guest's own key now: not the one fleet handed over.
      await book.update(agent, { hostKey, hostKeyHandedOver: undefined });
    },
    async hostKeyHandedOver(agent) {
      return book.get(agent)?.hostKeyHandedOver === true;
    },
  };
}
