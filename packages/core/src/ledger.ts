/** What one agent holds on its host. Recorded so it never moves. */
export interface Allocation {
  sshPort: number;
  spicePort: number;
  /** Host core per vCPU: cores[i] pins vCPU i. */
  cores: number[];
  /** 52:54:00:xx:xx:xx, lower-case. */
  mac: string;
  /** A disk adopted by `fleet import` (absolute path); fleet's own disks live in the state dir. */
  disk?: string;
}

/** The committed allocation ledger (agents/ledger.yaml), grouped per libvirt URI. */
export interface Ledger {
  version: 1;
  /**
   * This fleet's identity, generated once (engine `ensureFleetId`) and committed: every domain the
   * fleet defines carries it, so fleets sharing a libvirt host tell their domains apart.
   */
  fleetId?: string;
  /** uri -> agent name -> allocation. */
  hosts: Record<string, Record<string, Allocation>>;
  /** Where the ledger was read from, so conflicts on recorded entries point into it. */
  source?: { file: string; text: string };
}

export function emptyLedger(): Ledger {
  return { version: 1, hosts: {} };
}

/** The allocation of an agent on a given URI, if recorded. */
export function allocationOf(ledger: Ledger, uri: string, agent: string): Allocation | undefined {
  return ledger.hosts[uri]?.[agent];
}
