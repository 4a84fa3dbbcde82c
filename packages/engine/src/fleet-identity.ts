import { randomUUID } from 'node:crypto';
import type { Ledger } from '@agentfleet/core';

/**
 * The ledger with this fleet's id, generated the first time and kept from then on (the ledger is
 * committed, so every checkout of the fleet repo is the same fleet).
 */
export function ensureFleetId(ledger: Ledger): Ledger {
  return ledger.fleetId !== undefined ? ledger : { ...ledger, fleetId: randomUUID() };
}
