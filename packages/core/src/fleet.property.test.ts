// Property tests over random valid fleets: allocation invariants and stability, XML round trips.
// That libvirt's own schema accepts every generated domain XML is domain-xml.integration.test.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { allocate } from './allocate.js';
import { formatDiagnostic } from './diagnostics.js';
import { resourcesOfDomainXml } from './domain-resources.js';
import { domainMetadataOf, domainXml } from './domain-xml.js';
import type { HostSnapshot } from './host-snapshot.js';
import type { Ledger } from './ledger.js';
import { parseLedger, renderLedger } from './ledger-file.js';
import { loadFleet } from './load-fleet.js';
import type { Fleet } from './model.js';
import { agentNameProblem } from './names.js';

const URI = 'qemu:///session';

const agentName = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/).filter((n) => !agentNameProblem(n));
const agentDecl = fc.record({
  vcpus: fc.integer({ min: 1, max: 3 }),
  shareCores: fc.boolean(),
  memory: fc.oneof(
    fc.integer({ min: 256, max: 65536 }),
    fc.integer({ min: 1, max: 64 }).map((g) => `${g}GiB`),
  ),
  desktop: fc.boolean(),
});
const fleetDecl = fc.record({
  agents: fc.uniqueArray(fc.tuple(agentName, agentDecl), {
    minLength: 1,
    maxLength: 6,
    selector: ([n]) => n,
  }),
  reserved: fc.constantFrom([0], [], [0, 1]),
  listeners: fc.uniqueArray(
    fc.oneof(fc.integer({ min: 2223, max: 2235 }), fc.integer({ min: 5900, max: 5912 })),
  ),
});
type FleetDecl = typeof fleetDecl extends fc.Arbitrary<infer T> ? T : never;

/** Fleet from YAML text written by a YAML library, so names and values round-trip through the files. */
function fleetFrom(decl: FleetDecl, agents = decl.agents): Fleet {
  const r = loadFleet([
    { path: 'agents/fleet.yaml', text: stringify({ reservedCores: decl.reserved }) },
    ...agents.map(([name, a]) => ({
      path: `agents/${name}.yaml`,
      text: stringify({ ...a, git: { email: `${name}@example.com` } }),
    })),
  ]);
  if (!r.ok) throw new Error(r.diagnostics.map(formatDiagnostic).join('\n'));
  return r.value;
}

/** Enough CPUs for every vCPU to be exclusive, so allocation must succeed. */
function hostFor(decl: FleetDecl): HostSnapshot {
  const cpus = decl.reserved.length + decl.agents.reduce((n, [, a]) => n + a.vcpus, 0) + 1;
  return { uri: URI, cpus, listeningPorts: decl.listeners.map((port) => ({ port })), domains: [] };
}

function mustAllocate(prev: Ledger | undefined, fleet: Fleet, host: HostSnapshot): Ledger {
  const r = allocate(prev, fleet, host);
  if (!r.ok) throw new Error(r.diagnostics.map(formatDiagnostic).join('\n'));
  const reread = parseLedger(renderLedger(r.value), 'agents/ledger.yaml');
  if (!reread.ok) throw new Error(reread.diagnostics.map(formatDiagnostic).join('\n'));
  return reread.value;
}

describe('random fleets', () => {
  it('never share a port, MAC or exclusive core, never use reserved cores or listening ports', () => {
    fc.assert(
      fc.property(fleetDecl, (decl) => {
        const fleet = fleetFrom(decl);
        const host = hostFor(decl);
        const entries = Object.entries(mustAllocate(undefined, fleet, host).hosts[URI] ?? {});
        expect(entries.map(([n]) => n).sort()).toEqual(fleet.agents.map((a) => a.name).sort());
        const ports = entries.flatMap(([, e]) => [e.sshPort, e.spicePort]);
        expect(new Set(ports).size).toBe(ports.length);
        for (const p of ports) expect(decl.listeners).not.toContain(p);
        expect(new Set(entries.map(([, e]) => e.mac)).size).toBe(entries.length);
        for (const [name, e] of entries) {
          const agent = fleet.agents.find((a) => a.name === name);
          expect(e.cores).toHaveLength(agent?.vcpus ?? -1);
          for (const c of e.cores) {
            expect(decl.reserved).not.toContain(c);
            expect(c).toBeLessThan(host.cpus);
          }
          if (agent?.shareCores) continue;
          const others = entries.filter(([n]) => n !== name).flatMap(([, o]) => o.cores);
          for (const c of e.cores) expect(others).not.toContain(c);
          expect(new Set(e.cores).size).toBe(e.cores.length);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('keep every allocation when an agent is removed and another added', () => {
    fc.assert(
      fc.property(fleetDecl, fc.nat(), agentName, agentDecl, (decl, pick, newName, newDecl) => {
        const host = hostFor({ ...decl, agents: [...decl.agents, [newName, newDecl]] });
        const before = mustAllocate(undefined, fleetFrom(decl), host).hosts[URI] ?? {};
        const removed = decl.agents[pick % decl.agents.length]?.[0];
        const kept = decl.agents.filter(([n]) => n !== removed && n !== newName);
        const after =
          mustAllocate(
            { version: 1, hosts: { [URI]: before } },
            fleetFrom(decl, [...kept, [newName, newDecl]]),
            host,
          ).hosts[URI] ?? {};
        for (const [n] of kept) expect(after[n]).toEqual(before[n]);
      }),
      { numRuns: 200 },
    );
  });

  it('produce domain XML that round-trips names and values', () => {
    fc.assert(
      fc.property(
        fleetDecl,
        fc.constantFrom('hostfwd', 'passt') as fc.Arbitrary<'hostfwd' | 'passt'>,
        (decl, pf) => {
          const fleet = fleetFrom(decl);
          const ledger = mustAllocate(undefined, fleet, hostFor(decl));
          for (const agent of fleet.agents) {
            const allocation = ledger.hosts[URI]?.[agent.name];
            if (!allocation) throw new Error(`no allocation for ${agent.name}`);
            const xml = domainXml({
              agent,
              allocation,
              domainType: 'qemu',
              network: { mode: 'open', portForward: pf },
              spiceSocket: `/var/lib/fleet/run/agent-${agent.name}/spice.sock`,
              diskPath: `/var/lib/fleet/agent-${agent.name}.qcow2`,
              consoleLogPath: `/var/lib/fleet/agent-${agent.name}.console.log`,
            });
            expect(domainMetadataOf(xml)?.agent).toBe(agent.name);
            expect(xml).toContain(`<name>agent-${agent.name}</name>`);
            expect(xml).toContain(`<memory unit="MiB">${agent.memoryMiB}</memory>`);
            expect(resourcesOfDomainXml(xml)).toEqual({
              // SPICE is a unix socket: only the SSH forward is a port (none with libvirt's passt
              // backend, whose portForward ranges count too).
              ports: [allocation.sshPort],
              cores: [...new Set(allocation.cores)].sort((a, b) => a - b),
              memoryMiB: agent.memoryMiB,
            });
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
