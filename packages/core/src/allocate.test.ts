import { fleetOf } from '@agentfleet/testing/fleets';
import { describe, expect, it } from 'vitest';
import { allocate, allocateWithHeld } from './allocate.js';
import { formatDiagnostic, type Result } from './diagnostics.js';
import type { HostSnapshot } from './host-snapshot.js';
import type { Ledger } from './ledger.js';
import { parseLedger, renderLedger } from './ledger-file.js';

const URI = 'qemu:///session';

function host(over: Partial<HostSnapshot> = {}): HostSnapshot {
  return { uri: URI, cpus: 8, listeningPorts: [], domains: [], ...over };
}

function value(r: Result<Ledger>): Ledger {
  if (!r.ok) throw new Error(r.diagnostics.map(formatDiagnostic).join('\n'));
  return r.value;
}

function messages(r: Result<unknown>): string[] {
  return r.ok ? [] : r.diagnostics.map(formatDiagnostic);
}

/** Round-trip through the file format, as the CLI does between runs. */
function reread(l: Ledger): Ledger {
  const r = parseLedger(renderLedger(l), 'agents/ledger.yaml');
  if (!r.ok) throw new Error(r.diagnostics.map(formatDiagnostic).join('\n'));
  return r.value;
}

describe('allocate', () => {
  it('gives new agents the lowest free ports and exclusive non-reserved cores', () => {
    const l = value(allocate(undefined, fleetOf({ a: 'vcpus: 2', b: 'vcpus: 1' }), host()));
    expect(l.hosts[URI]).toEqual({
      a: {
        sshPort: 2223,
        spicePort: 5900,
        cores: [1, 2],
        mac: expect.stringMatching(/^52:54:00(:[0-9a-f]{2}){3}$/),
      },
      b: {
        sshPort: 2224,
        spicePort: 5901,
        cores: [3],
        mac: expect.stringMatching(/^52:54:00(:[0-9a-f]{2}){3}$/),
      },
    });
    expect(l.hosts[URI]?.a?.mac).not.toBe(l.hosts[URI]?.b?.mac);
  });

  it('never moves existing agents when one is added or removed', () => {
    const first = reread(value(allocate(undefined, fleetOf({ a: '', b: '', c: '' }), host())));
    const removed = reread(value(allocate(first, fleetOf({ a: '', c: '' }), host())));
    expect(removed.hosts[URI]).toEqual({ a: first.hosts[URI]?.a, c: first.hosts[URI]?.c });
    const added = value(allocate(removed, fleetOf({ a: '', c: '', d: '', e: '' }), host({ cpus: 12 })));
    expect(added.hosts[URI]?.a).toEqual(first.hosts[URI]?.a);
    expect(added.hosts[URI]?.c).toEqual(first.hosts[URI]?.c);
    // The newcomers fill the hole b left, then continue after c.
    expect(added.hosts[URI]?.d).toMatchObject({ sshPort: 2224, spicePort: 5901, cores: [3, 4] });
    expect(added.hosts[URI]?.e).toMatchObject({ sshPort: 2226, spicePort: 5903, cores: [7, 8] });
  });

  it('is a fixed point: allocating again changes nothing', () => {
    const fleet = fleetOf({ a: '', b: 'shareCores: true' });
    const once = reread(value(allocate(undefined, fleet, host())));
    expect(renderLedger(value(allocate(once, fleet, host())))).toBe(renderLedger(once));
  });

  it('skips ports held by host listeners and other domains for new agents', () => {
    const snapshot = host({
      listeningPorts: [{ port: 2223 }, { port: 5900, owner: 'Xvnc' }],
      domains: [{ name: 'other-vm', ports: [2224, 5901], cores: [1, 2] }],
    });
    const l = value(allocate(undefined, fleetOf({ a: '' }), snapshot));
    expect(l.hosts[URI]?.a).toMatchObject({ sshPort: 2225, spicePort: 5902, cores: [3, 4] });
  });

  it('names both parties when a recorded port is now taken, pointing into the ledger', () => {
    const fleet = fleetOf({ a: '', b: '' });
    const l = reread(value(allocate(undefined, fleet, host())));
    const r = allocate(l, fleet, host({ listeningPorts: [{ port: 2224, owner: 'sshd' }] }));
    expect(messages(r)).toEqual([
      'agents/ledger.yaml:13:16: hosts.qemu:///session.b.sshPort: SSH port 2224 of agent b is in use by sshd ' +
        '(listening on the host): stop it, or give the agent another port (ports.ssh in agents/b.yaml)',
    ]);
  });

  it('points at the YAML field when an explicit port or core is taken', () => {
    const fleet = fleetOf({ a: 'ports: { spice: 5905 }\ncores: [3, 4]' });
    const r = allocate(undefined, fleet, host({ domains: [{ name: 'foo', ports: [5905], cores: [4] }] }));
    expect(messages(r)).toEqual([
      'agents/a.yaml:2:17: ports.spice: SPICE port 5905 of agent a is in use by domain foo: stop it, or give the ' +
        'agent another port (ports.spice in agents/a.yaml)',
      'agents/a.yaml:3:12: cores.1: core 4 of agent a is also pinned by domain foo: stop it, or give the agent ' +
        'other cores (cores in agents/a.yaml, or shareCores: true)',
    ]);
  });

  it('keeps held resources in the ledger and reports them only for the agents that may start', () => {
    const fleet = fleetOf({ a: '', b: '', c: '' });
    const l = reread(value(allocate(undefined, fleet, host())));
    // A process on b's SSH port, a hand-made domain on a's SPICE port and core: outsiders, not this fleet.
    const taken = host({
      listeningPorts: [{ port: 2224, owner: 'process 7 (nc -l 2224)' }],
      domains: [{ name: 'handmade', ports: [5900], cores: [1] }],
    });
    const all = allocateWithHeld(l, fleet, taken, 'all');
    if (!all.ok) throw new Error(messages(all).join('\n'));
    expect(all.value.ledger).toEqual({ version: 1, hosts: l.hosts });
    expect(all.value.held.map((h) => [h.agent, h.diagnostic.path, h.diagnostic.message])).toEqual([
      [
        'a',
        'hosts.qemu:///session.a.spicePort',
        'SPICE port 5900 of agent a is in use by domain handmade: stop it, or give the agent another port ' +
          '(ports.spice in agents/a.yaml)',
      ],
      [
        'a',
        'hosts.qemu:///session.a.cores.0',
        'core 1 of agent a is also pinned by domain handmade: stop it, or give the agent other cores ' +
          '(cores in agents/a.yaml, or shareCores: true)',
      ],
      [
        'b',
        'hosts.qemu:///session.b.sshPort',
        'SSH port 2224 of agent b is in use by process 7 (nc -l 2224) (listening on the host): stop it, or give ' +
          'the agent another port (ports.ssh in agents/b.yaml)',
      ],
    ]);
    // Starting c only (or nothing: down, destroy): a's and b's holders are none of its business.
    for (const starting of [new Set(['c']), new Set<string>()]) {
      const some = allocateWithHeld(l, fleet, taken, starting);
      expect(some.ok && some.value).toEqual({ ledger: { version: 1, hosts: l.hosts }, held: [] });
    }
    // A new agent steers clear of them all.
    const four = fleetOf({ a: '', b: '', c: '', d: '' });
    const d = allocateWithHeld(l, four, host({ ...taken, cpus: 12 }), new Set(['d']));
    expect(d.ok && d.value.ledger.hosts[URI]?.d).toMatchObject({ sshPort: 2226, spicePort: 5903 });
    // The allocating command itself (every agent may start) still refuses, naming both parties.
    expect(messages(allocate(l, fleet, taken))).toHaveLength(3);
  });

  it("lists the starting agents' held resources beside an error, never those of the others", () => {
    const fleet = fleetOf({ a: '', b: '', c: 'ports: { ssh: 2223 }' });
    const l = reread(value(allocate(undefined, fleetOf({ a: '', b: '' }), host())));
    const taken = host({ listeningPorts: [{ port: 2224 }] });
    const failed = (starting: ReadonlySet<string> | 'all') =>
      messages(allocateWithHeld(l, fleet, taken, starting));
    expect(failed(new Set(['b']))).toEqual([
      'agents/c.yaml:2:15: ports.ssh: SSH port 2223 of agent c is in use by agent a',
      'agents/ledger.yaml:13:16: hosts.qemu:///session.b.sshPort: SSH port 2224 of agent b is in use by a process ' +
        'listening on the host: stop it, or give the agent another port (ports.ssh in agents/b.yaml)',
    ]);
    expect(failed(new Set(['a']))).toEqual([
      'agents/c.yaml:2:15: ports.ssh: SSH port 2223 of agent c is in use by agent a',
    ]);
  });

  it("does not count an agent's own running domain and its listeners against it", () => {
    const fleet = fleetOf({ a: '', b: '' });
    const l = reread(value(allocate(undefined, fleet, host())));
    const running = host({
      listeningPorts: [{ port: 2223 }, { port: 5900 }],
      domains: [{ name: 'agent-a', agent: 'a', ports: [2223, 5900], cores: [1, 2] }],
    });
    expect(value(allocate(l, fleet, running))).toEqual({ version: 1, hosts: l.hosts });
    // ...but another agent claiming a's ports conflicts with a's domain.
    const clash = fleetOf({ a: '', b: 'ports: { ssh: 2223 }' });
    expect(messages(allocate(undefined, clash, running))).toContain(
      "agents/b.yaml:2:15: ports.ssh: SSH port 2223 of agent b is in use by domain agent-a (agent a's running domain)",
    );
  });

  it('never uses reserved cores and explains core exhaustion', () => {
    const fleet = fleetOf({ a: 'vcpus: 2', b: 'vcpus: 2' }, 'reservedCores: [0, 1]');
    const r = allocate(undefined, fleet, host({ cpus: 6 }));
    expect(value(r).hosts[URI]?.a?.cores).toEqual([2, 3]);
    const three = fleetOf({ a: 'vcpus: 2', b: 'vcpus: 2', c: 'vcpus: 1' }, 'reservedCores: [0, 1]');
    expect(messages(allocate(undefined, three, host({ cpus: 6 })))).toEqual([
      'agents/c.yaml:2:8: vcpus: agent c needs 1 exclusive core(s) but host qemu:///session has 6 cpu(s): ' +
        'reserved 0,1; core 2 used by agent a; core 3 used by agent a; core 4 used by agent b; core 5 used by agent b ' +
        '(set shareCores: true to share)',
    ]);
  });

  it('lets sharing agents share the least-loaded cores, never exclusive ones', () => {
    const fleet = fleetOf({
      a: 'vcpus: 1',
      b: 'vcpus: 2\nshareCores: true',
      c: 'vcpus: 2\nshareCores: true',
    });
    const l = value(allocate(undefined, fleet, host({ cpus: 3 })));
    expect(l.hosts[URI]?.a?.cores).toEqual([1]);
    expect(l.hosts[URI]?.b?.cores).toEqual([2, 2]);
    expect(l.hosts[URI]?.c?.cores).toEqual([2, 2]);
  });

  it('spreads new sharing agents over the cores instead of stacking them beside idle ones', () => {
    // The case: two agents already on core 1, two new ones. Counting only what is pinned put both new
    // agents on core 0, where they booted at half speed while core 1's agents idled.
    const shared = 'vcpus: 1\nshareCores: true';
    const old = reread(
      value(
        allocate(
          undefined,
          fleetOf({ x: `${shared}\ncores: [1]`, y: `${shared}\ncores: [1]` }, 'reservedCores: []'),
          host({ cpus: 2 }),
        ),
      ),
    );
    const fleet = fleetOf({ x: shared, y: shared, a: shared, b: shared }, 'reservedCores: []');
    const l = value(allocate(old, fleet, host({ cpus: 2 })));
    expect([l.hosts[URI]?.a?.cores, l.hosts[URI]?.b?.cores]).toEqual([[0], [1]]);
    expect(l.hosts[URI]?.x?.cores).toEqual([1]); // recorded entries never move
    expect(renderLedger(value(allocate(reread(l), fleet, host({ cpus: 2 }))))).toBe(renderLedger(l));
  });

  it("puts a sharing agent's vCPUs on different cores, the least-pinned first", () => {
    const two = 'vcpus: 2\nshareCores: true';
    const l = value(allocate(undefined, fleetOf({ a: two, b: two }, 'reservedCores: []'), host({ cpus: 2 })));
    expect([l.hosts[URI]?.a?.cores, l.hosts[URI]?.b?.cores]).toEqual([
      [0, 1],
      [0, 1],
    ]);
    // Later, one agent alone: it goes where the fewest vCPUs are pinned, not to the lowest core.
    const busy = fleetOf(
      { a: 'vcpus: 1\nshareCores: true\ncores: [0]', b: 'vcpus: 1\nshareCores: true\ncores: [0]' },
      'reservedCores: []',
    );
    const before = reread(value(allocate(undefined, busy, host({ cpus: 3 }))));
    const more = fleetOf(
      { a: 'vcpus: 1\nshareCores: true', b: 'vcpus: 1\nshareCores: true', c: 'vcpus: 1\nshareCores: true' },
      'reservedCores: []',
    );
    const after = value(
      allocate(before, more, host({ cpus: 3, domains: [{ name: 'other', ports: [], cores: [1] }] })),
    );
    expect(after.hosts[URI]?.c?.cores).toEqual([2]);
  });

  it('reports exhausted port ranges', () => {
    const fleet = fleetOf({ a: '', b: '' }, 'sshPorts: { start: 2223, end: 2223 }');
    expect(messages(allocate(undefined, fleet, host()))).toEqual([
      'agents/b.yaml:1:1: ports.ssh: no free SSH port for agent b in 2223-2223 on qemu:///session',
    ]);
  });

  it('refuses explicit cores the host does not have', () => {
    const fleet = fleetOf({ a: 'vcpus: 2\ncores: [1, 9]' });
    expect(messages(allocate(undefined, fleet, host({ cpus: 4 })))).toEqual([
      'agents/a.yaml:3:12: cores.1: core 9 of agent a does not exist on host qemu:///session (4 cpus: 0-3)',
    ]);
  });

  it('allocates per host and keeps recorded entries of hosts without a snapshot', () => {
    const remote = 'qemu+ssh://big/session';
    const fleet = fleetOf({ a: '', b: `libvirtUri: ${remote}\nnetwork: none` });
    const both = reread(value(allocate(undefined, fleet, [host(), host({ uri: remote })])));
    expect(both.hosts[remote]?.b).toMatchObject({ sshPort: 2223, spicePort: 5900, cores: [1, 2] });
    expect(both.hosts[URI]?.a).toMatchObject({ sshPort: 2223, spicePort: 5900, cores: [1, 2] });
    const later = fleetOf({
      a: '',
      b: `libvirtUri: ${remote}\nnetwork: none`,
      c: `libvirtUri: ${remote}\nnetwork: none`,
    });
    expect(
      value(allocate(both, fleetOf({ a: '', b: `libvirtUri: ${remote}\nnetwork: none` }), host())).hosts,
    ).toEqual(both.hosts);
    expect(messages(allocate(both, later, host()))).toEqual([
      'agents/c.yaml:1:1: vcpus: cannot allocate agent c: no snapshot of host qemu+ssh://big/session (is it reachable?)',
    ]);
  });

  it('rejects a ledger with a duplicated MAC', () => {
    const fleet = fleetOf({ a: '', b: '' });
    const l = value(allocate(undefined, fleet, host()));
    const mac = l.hosts[URI]?.a?.mac ?? '';
    const text = renderLedger(l).replace(l.hosts[URI]?.b?.mac ?? '', mac);
    const dup = parseLedger(text, 'agents/ledger.yaml');
    if (!dup.ok) throw new Error('ledger should parse');
    expect(messages(allocate(dup.value, fleet, host()))).toEqual([
      `agents/ledger.yaml:16:12: hosts.qemu:///session.b.mac: MAC ${mac} of agent b is also recorded for agent a`,
    ]);
  });
});

describe('ledger file', () => {
  it('reports bad entries with position and field', () => {
    const r = parseLedger(
      'version: 1\nhosts:\n  qemu:///session:\n    a: { sshPort: x, spicePort: 5900, cores: [1], mac: "52:54:00:00:00:01" }\n',
      'agents/ledger.yaml',
    );
    expect(r.ok ? [] : r.diagnostics.map(formatDiagnostic)).toEqual([
      'agents/ledger.yaml:4:19: hosts.qemu:///session.a.sshPort: expected number, received string',
    ]);
  });
});
