import { describe, expect, it } from 'vitest';
import { coreSpreadWarnings } from './core-spread.js';
import type { Allocation, Ledger } from './ledger.js';

const URI = 'qemu:///session';
const at = (cores: number[]): Allocation => ({ sshPort: 1, spicePort: 2, cores, mac: '52:54:00:00:00:01' });
const ledger = (agents: Record<string, Allocation>): Ledger => ({ version: 1, hosts: { [URI]: agents } });

describe('coreSpreadWarnings', () => {
  it('warns when agents share a core while another usable core has none, naming them and the remedy', () => {
    const w = coreSpreadWarnings(
      ledger({ drago: at([1, 1]), luce: at([1, 1]) }),
      { uri: URI, cpus: 2 },
      [],
      'agents/ledger.yaml',
    );
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/core 1 carries 4 vCPUs \(drago, luce\) while core 0 has none/);
    expect(w[0]).toMatch(/delete their entries from agents\/ledger\.yaml .*fleet allocate/);
  });

  it('is silent when the only other core is reserved, or every core is in use', () => {
    const stacked = ledger({ drago: at([1, 1]), luce: at([1, 1]) });
    expect(coreSpreadWarnings(stacked, { uri: URI, cpus: 2 }, [0], 'l')).toEqual([]);
    const spread = ledger({ drago: at([0, 1]), luce: at([0, 1]) });
    expect(coreSpreadWarnings(spread, { uri: URI, cpus: 2 }, [], 'l')).toEqual([]);
  });
});
