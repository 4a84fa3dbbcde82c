import { badCases, goodFleetFiles } from '@agentfleet/testing/bad-files';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from './diagnostics.js';
import { loadFleet } from './load-fleet.js';

function withFile(path: string, text: string) {
  return [...goodFleetFiles().filter((f) => f.path !== path), { path, text }];
}

describe('loadFleet', () => {
  it('accepts the fixture fleet and fills defaults', () => {
    const r = loadFleet(goodFleetFiles());
    if (!r.ok) throw new Error(r.diagnostics.map(formatDiagnostic).join('\n'));
    expect(r.value.config).toMatchObject({
      libvirtUri: 'qemu:///session',
      stateDir: '~/.agentvms',
      baseImage: '~/.agentvms/agent-base.qcow2',
      sshPorts: { start: 2223, end: 2322 },
      spicePorts: { start: 5900, end: 5999 },
      reservedCores: [0],
      domainType: 'auto',
      portForward: 'auto',
      network: 'isolated',
      networkFirewall: 'auto',
      diskMode: 'overlay',
      ssh: { identityFile: '~/.ssh/id_ed25519' },
    });
    expect(r.value.agents).toEqual([
      {
        name: 'drago',
        file: 'agents/drago.yaml',
        memoryMiB: 4096,
        vcpus: 2,
        cores: [1, 2],
        sshPort: 2223,
        spicePort: 5900,
        shareCores: false,
        user: 'drago',
        git: { name: 'Drago', email: 'drago@example.com' },
        desktop: true,
        sudo: false,
        shellAliases: {},
        secrets: [],
        libvirtUri: 'qemu:///session',
        placed: false,
        network: 'isolated',
        tags: [],
        autostart: false,
        shares: [],
      },
    ]);
  });

  it('reads tags (sorted, without duplicates) and autostart, and refuses a bad tag', () => {
    const files = withFile(
      'agents/x.yaml',
      'tags: [web, ci, web]\nautostart: true\ngit: { email: x@example.com }\n',
    );
    const r = loadFleet(files);
    if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
    expect(r.value.agents.find((a) => a.name === 'x')).toMatchObject({
      tags: ['ci', 'web'],
      autostart: true,
    });
    const bad = loadFleet(withFile('agents/x.yaml', 'tags: [Web Server]\ngit: { email: x@example.com }\n'));
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.diagnostics[0]?.message).toContain('a tag is lowercase');
  });

  it("takes an agent's network mode over the fleet's, and refuses unknown modes", () => {
    const files = withFile('agents/x.yaml', 'network: none\ngit: { email: x@example.com }\n');
    const open = files.map((f) =>
      f.path === 'agents/fleet.yaml' ? { ...f, text: `${f.text}network: open\n` } : f,
    );
    const r = loadFleet(open);
    expect(r.ok && r.value.agents.map((a) => [a.name, a.network])).toEqual([
      ['drago', 'open'],
      ['x', 'none'],
    ]);
    const bad = loadFleet(withFile('agents/x.yaml', 'network: closed\ngit: { email: x@example.com }\n'));
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.diagnostics[0]).toMatchObject({ file: 'agents/x.yaml', line: 1 });
  });

  it.each(['1536MiB', '1.5GiB', 1536])('reads memory %s as 1536 MiB', (memory) => {
    const r = loadFleet(withFile('agents/x.yaml', `memory: ${memory}\ngit: { email: x@example.com }\n`));
    expect(r.ok && r.value.agents.find((a) => a.name === 'x')?.memoryMiB).toBe(1536);
  });

  describe.each(badCases())('bad file $name', (c) => {
    it(`reports ${c.as}:${c.line}:${c.column} ${c.path || '(file)'}`, () => {
      const r = loadFleet(withFile(c.as, c.text));
      expect(r.ok).toBe(false);
      if (r.ok) return;
      const mine = r.diagnostics.filter((d) => d.file === c.as);
      expect(mine, r.diagnostics.map(formatDiagnostic).join('\n')).toHaveLength(1);
      expect(mine[0]).toMatchObject({ file: c.as, line: c.line, column: c.column, path: c.path });
      expect(mine[0]?.message).toContain(c.message);
    });
  });

  it('reports every problem in every file at once', () => {
    const r = loadFleet([
      { path: 'agents/fleet.yaml', text: 'domainType: xen\nsshPorts: { start: 2300, end: 2200 }\n' },
      { path: 'agents/a.yaml', text: 'memory: 4GB\nvcpus: 0\nbogus: 1\n' },
      { path: 'agents/b.yaml', text: 'git: { email: b@example.com }\nports: { ssh: 99999 }\n' },
    ]);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      'agents/a.yaml:1:9: memory: write memory as e.g. 4GiB, 512MiB or a number of MiB',
      'agents/a.yaml:2:8: vcpus: Too small: expected number to be >=1',
      "agents/a.yaml:3:1: bogus: unknown field 'bogus'",
      'agents/b.yaml:2:15: ports.ssh: Too big: expected number to be <=65535',
      'agents/fleet.yaml:1:13: domainType: Invalid option: expected one of "auto"|"kvm"|"qemu"',
    ]);
  });

  it('reports a missing fleet.yaml without a position', () => {
    const r = loadFleet([{ path: 'agents/a.yaml', text: 'git: { email: a@example.com }\n' }]);
    expect(r.ok ? [] : r.diagnostics.map(formatDiagnostic)).toEqual(['agents/fleet.yaml: file is missing']);
  });

  it('lets agents share explicit cores only when both opt in', () => {
    const files = (shareA: boolean, shareB: boolean) => [
      { path: 'agents/fleet.yaml', text: '{}\n' },
      {
        path: 'agents/a.yaml',
        text: `git: { email: a@example.com }\ncores: [1, 2]\nshareCores: ${shareA}\n`,
      },
      {
        path: 'agents/b.yaml',
        text: `git: { email: b@example.com }\ncores: [2, 3]\nshareCores: ${shareB}\n`,
      },
    ];
    expect(loadFleet(files(true, true)).ok).toBe(true);
    expect(loadFleet(files(true, false)).ok).toBe(false);
    expect(loadFleet(files(false, true)).ok).toBe(false);
  });

  it('allows the same explicit port on different libvirt hosts', () => {
    const r = loadFleet([
      { path: 'agents/fleet.yaml', text: '{}\n' },
      { path: 'agents/a.yaml', text: 'git: { email: a@example.com }\nports: { ssh: 2230 }\n' },
      {
        path: 'agents/b.yaml',
        text: 'git: { email: b@example.com }\nports: { ssh: 2230 }\nlibvirtUri: qemu+ssh://other/session\nnetwork: open\n',
      },
    ]);
    expect(r.ok).toBe(true);
  });

  it('loads network: isolated on a remote host (fleet starts its passt there), explicit or by default', () => {
    const hosts = "hosts:\n  there: { uri: 'qemu+libssh2://root@10.0.0.2/system' }\n";
    const load = (agent: string, fleet = hosts) =>
      loadFleet([
        { path: 'agents/fleet.yaml', text: fleet },
        { path: 'agents/a.yaml', text: `git: { email: a@example.com }\n${agent}` },
      ]);
    for (const [agent, fleet] of [
      ['host: there\nnetwork: isolated\n', hosts],
      ['host: there\n', hosts],
      ['libvirtUri: qemu+ssh://h/system\n', '{}\n'],
    ] as const) {
      const r = load(agent, fleet);
      expect(r.ok && r.value.agents[0]?.network).toBe('isolated');
    }
  });
});
