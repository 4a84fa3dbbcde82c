import { fleetOf } from '@agentfleet/testing/fleets';
import { describe, expect, it } from 'vitest';
import { allocate } from './allocate.js';
import { formatDiagnostic, type Result } from './diagnostics.js';
import type { HostSnapshot } from './host-snapshot.js';
import { emptyLedger, type Ledger } from './ledger.js';
import { loadFleet } from './load-fleet.js';
import type { Fleet } from './model.js';
import { placeAgents, recordedPlacements } from './placement.js';

const A = 'qemu:///system';
const B = 'qemu+ssh://root@10.216.0.2/system';
const HOSTS = `network: none\nhosts:\n  alpha: { uri: '${A}' }\n  beta: { uri: '${B}', reservedCores: [] }\n`;

function snap(uri: string, cpus: number, memoryMiB: number, over: Partial<HostSnapshot> = {}): HostSnapshot {
  return { uri, cpus, memoryMiB, listeningPorts: [], domains: [], ...over };
}

function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(r.diagnostics.map(formatDiagnostic).join('\n'));
  return r.value;
}

const hostOf = (f: Fleet, name: string) => f.agents.find((a) => a.name === name)?.host;

describe('placement on fleet.yaml hosts', () => {
  it('an agent naming a host runs there; one naming neither is placed where the most cores are free', () => {
    const fleet = fleetOf({ a: 'host: alpha\nvcpus: 1', b: 'vcpus: 2' }, HOSTS);
    expect(fleet.agents.map((a) => [a.name, a.libvirtUri, a.placed])).toEqual([
      ['a', A, false],
      ['b', 'qemu:///session', true],
    ]);
    // alpha: 4 cpus, core 0 reserved, a takes one: 2 free; beta: 2 cpus, none reserved: 2 free, more memory.
    const placed = value(placeAgents(emptyLedger(), fleet, [snap(A, 4, 4096), snap(B, 2, 8192)]));
    expect(hostOf(placed, 'b')).toBe('beta');
    expect(placed.agents.find((a) => a.name === 'b')?.libvirtUri).toBe(B);
  });

  it('counts exclusive cores pinned by other domains and memory given to them', () => {
    const fleet = fleetOf({ c: 'vcpus: 1\nmemory: 2GiB' }, HOSTS);
    const busyBeta = snap(B, 4, 4096, {
      domains: [{ name: 'other', ports: [], cores: [0, 1, 2], memoryMiB: 3072 }],
    });
    // beta has 1 free core but only 1024 MiB left: alpha (3 free cores, 4096 MiB) fits.
    expect(hostOf(value(placeAgents(emptyLedger(), fleet, [snap(A, 4, 4096), busyBeta])), 'c')).toBe('alpha');
  });

  it('an agent with shares is placed only on the system libvirt here (its sources are directories of this machine)', () => {
    const fleet = fleetOf(
      { s: 'vcpus: 1\nshares:\n  - { source: /srv/a, target: /mnt/a }' },
      `libvirtUri: '${A}'\n${HOSTS}`,
    );
    // beta has far more room, yet s goes to alpha; with no room on alpha, no host fits, and the error says why.
    const roomy = [snap(A, 4, 4096), snap(B, 64, 65536)];
    expect(hostOf(value(placeAgents(emptyLedger(), fleet, roomy)), 's')).toBe('alpha');
    const full = placeAgents(emptyLedger(), fleet, [snap(A, 1, 4096), snap(B, 64, 65536)]);
    expect(full.ok ? [] : full.diagnostics.map((d) => d.message)).toEqual([
      expect.stringContaining(
        'no host fits agent s (1 exclusive vCPU(s), 4096 MiB, shares: only qemu:///system)',
      ),
    ]);
  });

  it('a placement is recorded by the ledger and never moves, even when another host frees up', () => {
    const fleet = fleetOf({ b: 'vcpus: 1' }, HOSTS);
    const first = value(placeAgents(emptyLedger(), fleet, [snap(A, 2, 4096), snap(B, 8, 4096)]));
    expect(hostOf(first, 'b')).toBe('beta');
    const ledger = value(allocate(emptyLedger(), first, [snap(A, 2, 4096), snap(B, 8, 4096)]));
    expect(Object.keys(ledger.hosts[B] ?? {})).toEqual(['b']);
    // Now alpha is far bigger: b stays, both through placement and through the plain reading of the ledger.
    const again = value(placeAgents(ledger, fleet, [snap(A, 64, 65536), snap(B, 8, 4096)]));
    expect(hostOf(again, 'b')).toBe('beta');
    expect(hostOf(recordedPlacements(fleet, ledger), 'b')).toBe('beta');
  });

  it('agents placed in one run share out the capacity (a third goes where it still fits)', () => {
    const fleet = fleetOf({ x: 'vcpus: 2', y: 'vcpus: 2', z: 'vcpus: 1' }, HOSTS);
    // alpha: 3 unreserved, beta: 2. x -> alpha (3 free), y -> beta (2 free), z -> alpha (1 left vs 0).
    const placed = value(placeAgents(emptyLedger(), fleet, [snap(A, 4, 65536), snap(B, 2, 65536)]));
    expect(['x', 'y', 'z'].map((n) => hostOf(placed, n))).toEqual(['alpha', 'beta', 'alpha']);
    const ledger = value(allocate(emptyLedger(), placed, [snap(A, 4, 65536), snap(B, 2, 65536)]));
    expect(ledger.hosts[A]?.x?.cores).toEqual([1, 2]);
    expect(ledger.hosts[A]?.z?.cores).toEqual([3]);
    expect(ledger.hosts[B]?.y?.cores).toEqual([0, 1]);
  });

  it('no host fits: one error in the agent file naming every host and what it has left', () => {
    const fleet = fleetOf({ big: 'vcpus: 4' }, HOSTS);
    const r = placeAgents(emptyLedger(), fleet, [snap(A, 4, 65536)]);
    expect(r.ok).toBe(false);
    const text = r.ok ? '' : r.diagnostics.map(formatDiagnostic).join('\n');
    expect(text).toContain('agents/big.yaml');
    expect(text).toContain('no host fits agent big (4 exclusive vCPU(s), 4096 MiB)');
    expect(text).toContain('alpha has 3 free core(s) and 65536 MiB');
    expect(text).toContain('beta is unreachable (no snapshot)');
  });

  it('an unknown host, or host with libvirtUri, is a located error', () => {
    const load = (agent: string) =>
      loadFleet([
        { path: 'agents/fleet.yaml', text: HOSTS },
        { path: 'agents/a.yaml', text: `git: { email: a@example.com }\n${agent}\n` },
      ]);
    const unknown = load('host: gamma');
    expect(unknown.ok ? [] : unknown.diagnostics.map(formatDiagnostic)).toEqual([
      "agents/a.yaml:2:7: host: no host 'gamma' in fleet.yaml hosts (hosts: alpha, beta)",
    ]);
    const both = load(`host: alpha\nlibvirtUri: '${A}'`);
    expect(both.ok ? [] : both.diagnostics.map(formatDiagnostic)).toEqual([
      'agents/a.yaml:2:7: host: name either host or libvirtUri, not both (a host carries its URI)',
    ]);
  });

  it("a host's reservedCores apply on that host only", () => {
    const fleet = fleetOf({ b: 'host: beta\nvcpus: 2' }, HOSTS);
    const ledger: Ledger = value(allocate(emptyLedger(), fleet, [snap(B, 2, 4096)]));
    expect(ledger.hosts[B]?.b?.cores).toEqual([0, 1]);
  });
});
