import type { Result } from './diagnostics.js';
import type { HostSnapshot } from './host-snapshot.js';
import type { Ledger } from './ledger.js';
import type { Fleet } from './model.js';

/**
 * Next ledger from the previous one, the declarations and what is taken on each host.
 * Recorded allocations never move; a recorded or explicit resource that is now taken is an
 * error naming both parties. Agents on a URI without a snapshot keep their recorded entries;
 * new agents there cannot be allocated.
 */
export function allocate(
  _prev: Ledger | undefined,
  _fleet: Fleet,
  _hosts: HostSnapshot | readonly HostSnapshot[],
): Result<Ledger> {
  throw new Error('allocate: not implemented yet');
}
