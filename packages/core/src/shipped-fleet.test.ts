// The repository's own agents/ (drago, luce, ledger) against the pure core.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allocate } from './allocate.js';
import { coreSpreadWarnings } from './core-spread.js';
import { formatDiagnostic } from './diagnostics.js';
import { parseLedger, renderLedger } from './ledger-file.js';
import { loadFleet } from './load-fleet.js';

const agentsDir = new URL('../../../agents/', import.meta.url);
const read = (f: string) => readFileSync(new URL(f, agentsDir), 'utf8');
const shippedFiles = () =>
  readdirSync(agentsDir)
    .filter((f) => f.endsWith('.yaml') && f !== 'ledger.yaml')
    .map((f) => ({ path: `agents/${f}`, text: read(f) }));
/** The 2-core reference host the shipped ledger was made on, with nothing else running. */
const referenceHost = { uri: 'qemu:///session', cpus: 2, listeningPorts: [], domains: [] };

describe('shipped agents', () => {
  it('match the seeds: ports, 4 GiB, 2 vCPUs, GNOME, mail secret, git identity, tag:agent', () => {
    const r = loadFleet(shippedFiles());
    if (!r.ok) throw new Error(r.diagnostics.map(formatDiagnostic).join('\n'));
    expect(r.value.agents.map((a) => [a.name, a.sshPort, a.spicePort, a.memoryMiB, a.vcpus])).toEqual([
      ['drago', 2223, 5900, 4096, 2],
      ['luce', 2224, 5901, 4096, 2],
    ]);
    for (const a of r.value.agents) {
      expect(a).toMatchObject({
        desktop: true,
        user: a.name,
        git: { email: `${a.name}@ncrmro.com` },
        tailscale: { tags: ['tag:agent'] },
        secrets: [`stalwart-mail-${a.name}-password`],
      });
    }
  });

  it('ledger is what allocate produces on the reference host, and stays put when a third agent arrives', () => {
    const fleet = loadFleet(shippedFiles());
    const ledger = parseLedger(read('ledger.yaml'), 'agents/ledger.yaml');
    if (!fleet.ok || !ledger.ok) throw new Error('shipped files must be valid');
    const again = allocate(ledger.value, fleet.value, referenceHost);
    expect(again.ok && renderLedger(again.value)).toBe(read('ledger.yaml'));
    const fresh = allocate(undefined, fleet.value, referenceHost);
    expect(fresh.ok && renderLedger(fresh.value)).toBe(read('ledger.yaml'));
    // Both agents' vCPUs are spread over both cores: nothing stacks on one while the other idles.
    expect(coreSpreadWarnings(ledger.value, referenceHost, fleet.value.config.reservedCores, 'l')).toEqual(
      [],
    );

    const withNova = loadFleet([
      ...shippedFiles(),
      { path: 'agents/nova.yaml', text: 'git: { email: nova@example.com }\nshareCores: true\n' },
    ]);
    if (!withNova.ok) throw new Error(withNova.diagnostics.map(formatDiagnostic).join('\n'));
    const next = allocate(ledger.value, withNova.value, referenceHost);
    if (!next.ok) throw new Error(next.diagnostics.map(formatDiagnostic).join('\n'));
    const hosts = next.value.hosts['qemu:///session'];
    expect(hosts?.drago).toEqual(ledger.value.hosts['qemu:///session']?.drago);
    expect(hosts?.luce).toEqual(ledger.value.hosts['qemu:///session']?.luce);
    expect(hosts?.nova).toMatchObject({ sshPort: 2225, spicePort: 5902, cores: [0, 1] });
  });
});
