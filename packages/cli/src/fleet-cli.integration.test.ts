// The built `fleet` CLI run as a subprocess on temp fleet repos: validate, allocate, xml.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { portBlock } from '@agentfleet/testing';
import { badCases, goodFleetFiles } from '@agentfleet/testing/bad-files';
import { expectSchema } from '@agentfleet/testing/json-schemas';
import { virtXmlValidate } from '@agentfleet/testing/libvirt-tools';
import { runCli, shippedFleet, tempFleet } from '@agentfleet/testing/run-cli';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A block of ports of this file's own, below the ephemeral range: no other test's server or VM, and no kernel-chosen
// port, appears in it, so allocation skips only what these tests hold.
// The default ranges (100 ports each) from 200 up; the cases below 200 name their own.
const PORTS = portBlock(400);
const FLEET_YAML = `sshPorts: { start: ${PORTS + 200} }\nspicePorts: { start: ${PORTS + 300} }\nreservedCores: [0]\n`;
const agentYaml = (name: string) => `vcpus: 1\nshareCores: true\ngit: { email: ${name}@example.com }\n`;

function snapshotDir(dir: string): Record<string, string> {
  const files = readdirSync(join(dir, 'agents')).sort();
  return Object.fromEntries(files.map((f) => [f, readFileSync(join(dir, 'agents', f), 'utf8')]));
}

describe('fleet', () => {
  it('lists every command in --help and exits 0; unknown commands exit 2', () => {
    const help = runCli(['--help'], '/');
    for (const c of ['validate', 'allocate', 'xml [options] <name>']) expect(help.stdout).toContain(`  ${c}`);
    expect(help.status).toBe(0);
    const bogus = runCli(['bogus'], '/');
    expect(bogus.stderr).toContain("error: unknown command 'bogus'");
    expect(bogus.status).toBe(2);
  });
});

describe('fleet validate', () => {
  it('accepts the shipped agents', () => {
    const r = runCli(['validate'], shippedFleet());
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ok: 2 agent(s): drago, luce\n');
    expect(r.status).toBe(0);
  });

  it('prints JSON with --json', () => {
    const r = runCli(['--json', 'validate'], shippedFleet());
    expect(JSON.parse(r.stdout)).toEqual({
      version: 1,
      ok: true,
      command: 'validate',
      agents: ['drago', 'luce'],
    });
  });

  it('finds the repo from a subdirectory and via --dir', () => {
    const dir = shippedFleet();
    expect(runCli(['validate'], join(dir, 'agents')).status).toBe(0);
    expect(runCli(['--dir', dir, 'validate'], '/').status).toBe(0);
    const none = runCli(['validate'], '/');
    expect(none.stderr).toContain('no agents/fleet.yaml in / or any parent directory\n');
    expect(none.stderr).toContain('or pass --dir DIR');
    expect(none.status).toBe(2);
  });

  // Every bad file is checked in-process by core's load-fleet.test.ts; the built CLI runs a few,
  // one of each kind (YAML syntax, schema, cross-agent, fleet.yaml), end to end.
  const endToEnd = ['bad-indent', 'wrong-type', 'dup-port', 'fleet-unknown-key'];
  const cases = badCases().filter((c) => endToEnd.includes(c.name));
  it('runs the chosen bad files end to end', () =>
    expect(cases.map((c) => c.name).sort()).toEqual(endToEnd.sort()));

  describe.each(cases)('on bad file $name', (c) => {
    it(`exits 2 naming ${c.as}:${c.line}:${c.column} and writes nothing`, () => {
      const files = Object.fromEntries(goodFleetFiles().map((f) => [f.path, f.text]));
      const dir = tempFleet({ ...files, [c.as]: c.text });
      const before = snapshotDir(dir);
      const r = runCli(['validate'], dir);
      const where = `${c.as}:${c.line}:${c.column}: ${c.path ? `${c.path}: ` : ''}`;
      const line = r.stderr.split('\n').find((l) => l.startsWith(where));
      expect(line, r.stderr).toContain(c.message);
      expect(r.stdout).toBe('');
      expect(r.status).toBe(2);
      expect(runCli(['allocate'], dir).status).toBe(2);
      expect(snapshotDir(dir)).toEqual(before);
    });
  });

  it('reports diagnostics as JSON on stdout with --json', () => {
    const dir = tempFleet({ 'agents/fleet.yaml': FLEET_YAML, 'agents/a.yaml': 'vcpus: many\n' });
    const r = runCli(['--json', 'validate'], dir);
    expect(JSON.parse(r.stdout)).toEqual({
      version: 1,
      ok: false,
      command: 'validate',
      error: {
        code: 'invalid',
        message: expect.stringContaining('agents/a.yaml:1:8'),
        remedy: expect.stringContaining('fleet validate'),
      },
      diagnostics: [
        {
          file: 'agents/a.yaml',
          line: 1,
          column: 8,
          path: 'vcpus',
          message: 'expected number, received string',
        },
      ],
    });
    expect(r.status).toBe(2);
  });
});

describe('fleet allocate', () => {
  let listener: Server;
  // Held by this file's listener.
  const busyPort = PORTS;
  beforeAll(async () => {
    listener = createServer();
    await new Promise<void>((resolve) => listener.listen(busyPort, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => listener.close(() => resolve())));

  it('writes a ledger, is a no-op the second time, and keeps allocations when a third agent arrives', () => {
    const dir = tempFleet({
      'agents/fleet.yaml': FLEET_YAML,
      'agents/a.yaml': agentYaml('a'),
      'agents/b.yaml': agentYaml('b'),
    });
    const first = runCli(['allocate'], dir);
    expect(first.status).toBe(0);
    const ledger1 = readFileSync(join(dir, 'agents/ledger.yaml'), 'utf8');
    expect(first.stdout).toBe(ledger1);
    expect(runCli(['allocate'], dir).stdout).toBe(ledger1);

    writeFileSync(join(dir, 'agents/c.yaml'), agentYaml('c'));
    expect(runCli(['allocate'], dir).status).toBe(0);
    const r = runCli(['--json', 'allocate'], dir);
    const hosts = JSON.parse(r.stdout).ledger.hosts['qemu:///session'];
    const before = JSON.parse(runCli(['--json', 'allocate'], dir).stdout).ledger.hosts['qemu:///session'];
    expect(hosts).toEqual(before);
    const old = /a:\n {6}sshPort: (\d+)\n {6}spicePort: (\d+)[\s\S]*b:\n {6}sshPort: (\d+)/.exec(ledger1);
    expect([hosts.a.sshPort, hosts.a.spicePort, hosts.b.sshPort]).toEqual(old?.slice(1).map(Number));
    expect(new Set([hosts.a.sshPort, hosts.b.sshPort, hosts.c.sshPort]).size).toBe(3);
    expect(readdirSync(join(dir, 'agents')).sort()).toEqual([
      'a.yaml',
      'b.yaml',
      'c.yaml',
      'fleet.yaml',
      'ledger.yaml',
    ]);
  });

  it("brings a hand-edited fleet's hosts/agents.json in line with the YAML; validate names it when stale", () => {
    const stale = '{"agents":{}}\n';
    const dir = tempFleet({
      'agents/fleet.yaml': FLEET_YAML,
      'agents/a.yaml': agentYaml('a'),
      'hosts/agents.json': stale,
    });
    const v = runCli(['validate'], dir);
    expect(v.status).toBe(2);
    expect(v.stderr).toContain(
      'hosts/agents.json: out of sync with agents/*.yaml; regenerate it with `fleet allocate`',
    );
    expect(readFileSync(join(dir, 'hosts/agents.json'), 'utf8')).toBe(stale);

    expect(runCli(['allocate'], dir).status).toBe(0);
    const json = readFileSync(join(dir, 'hosts/agents.json'), 'utf8');
    expect(Object.keys(JSON.parse(json).agents)).toEqual(['a']);
    expect(runCli(['validate'], dir).status).toBe(0);
    // Unchanged content is not rewritten.
    const { ino } = statSync(join(dir, 'hosts/agents.json'));
    expect(runCli(['allocate'], dir).status).toBe(0);
    expect(statSync(join(dir, 'hosts/agents.json')).ino).toBe(ino);
  });

  it('leaves a repo without hosts/ without one', () => {
    const dir = tempFleet({ 'agents/fleet.yaml': FLEET_YAML, 'agents/a.yaml': agentYaml('a') });
    expect(runCli(['allocate'], dir).status).toBe(0);
    expect(runCli(['validate'], dir).status).toBe(0);
    expect(existsSync(join(dir, 'hosts'))).toBe(false);
  });

  it('refuses a port a host process listens on, naming both, and leaves the ledger alone', () => {
    const dir = tempFleet({
      'agents/fleet.yaml': `sshPorts: { start: ${busyPort}, end: ${busyPort + 5} }\nspicePorts: { start: ${PORTS + 100} }\n`,
      'agents/a.yaml': agentYaml('a'),
    });
    const ok = runCli(['allocate'], dir);
    expect(ok.status).toBe(0);
    // The lowest port of the range is taken by our listener, so allocation skipped it.
    expect(ok.stdout).toContain(`sshPort: ${busyPort + 1}\n`);
    const before = snapshotDir(dir);
    writeFileSync(join(dir, 'agents/b.yaml'), `${agentYaml('b')}ports: { ssh: ${busyPort} }\n`);
    const r = runCli(['allocate'], dir);
    // The holder is named: this test's own process holds the listener.
    expect(r.stderr).toMatch(
      new RegExp(
        `^agents/b\\.yaml:4:15: ports\\.ssh: SSH port ${busyPort} of agent b is in use by process ${process.pid} \\(.*\\) \\(listening on the host\\): stop it, or give the agent another port \\(ports\\.ssh in agents/b\\.yaml\\)\n$`,
      ),
    );
    expect(r.status).toBe(2);
    expect(snapshotDir(dir)).toEqual({
      ...before,
      'b.yaml': readFileSync(join(dir, 'agents/b.yaml'), 'utf8'),
    });
  });

  it("a process on one agent's port blocks only that agent, where it would start, naming the process and remedy", () => {
    const dir = tempFleet({
      'agents/fleet.yaml':
        'libvirtUri: test:///default\nstateDir: ./state\nbaseImage: ./base.qcow2\nreservedCores: []\n' +
        `sshPorts: { start: ${busyPort}, end: ${busyPort + 5} }\nspicePorts: { start: ${PORTS + 100} }\n`,
      'agents/a.yaml': `${agentYaml('a')}ports: { ssh: ${busyPort} }\n`,
      'agents/b.yaml': agentYaml('b'),
      'base.qcow2': '',
    });
    for (const args of [['down'], ['destroy', 'b', '--yes'], ['plan', 'b']]) {
      const r = runCli(args, dir);
      expect(r.status, `fleet ${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    const held =
      `SSH port ${busyPort} of agent a is in use by process ${process.pid} \\(` +
      `[^\n]*\\) \\(listening on the host\\): stop it, or give the agent another port \\(ports\\.ssh in agents/a\\.yaml\\)`;
    // The whole fleet's plan: a is blocked (exit 1, as any blocked plan), b would still be created.
    const plan = runCli(['plan'], dir);
    expect(plan.stdout).toMatch(new RegExp(`a is BLOCKED\n\\s*# ${held}`));
    expect(plan.stdout).toContain('+ agent b will be created');
    expect(plan.status).toBe(1);
    // `up a` fails that agent with the same words, and makes nothing for it (not even a host key).
    const up = runCli(['up', 'a'], dir);
    expect(up.stdout).toMatch(new RegExp(`a: FAILED\n\\s+${held}`));
    expect(up.status).toBe(1);
    expect(existsSync(join(dir, 'state', 'hostkeys'))).toBe(false);
    // `fleet allocate` hands out resources for every agent: there a held one is still an error.
    const allocate = runCli(['allocate'], dir);
    expect(allocate.stderr).toMatch(new RegExp(`agents/a\\.yaml:4:15: ports\\.ssh: ${held}`));
    expect(allocate.status).toBe(2);
  });
});

describe('fleet allocate against libvirt domains (qemu:///session)', () => {
  // A foreign, never-started domain holding a port in our range and every unreserved core.
  const domain = `afcli-${process.pid}`;
  const cpus = availableParallelism();
  const virsh = (...args: string[]) =>
    spawnSync('virsh', ['-q', '-c', 'qemu:///session', ...args], { encoding: 'utf8' });
  beforeAll(() => {
    const dir = tempFleet({
      'domain.xml': `<domain type='qemu'><name>${domain}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
        <cputune><vcpupin vcpu='0' cpuset='1-${Math.max(1, cpus - 1)}'/></cputune>
        <os><type arch='x86_64'>hvm</type></os>
        <devices><graphics type='spice' port='${PORTS + 50}' autoport='no'/></devices></domain>`,
    });
    const r = virsh('define', join(dir, 'domain.xml'));
    if (r.status !== 0) throw new Error(r.stderr);
  });
  afterAll(() => {
    virsh('undefine', domain);
  });

  it('skips the ports and cores other domains hold, and names the domain on conflicts', () => {
    const fleet = `sshPorts: { start: ${PORTS + 50}, end: ${PORTS + 55} }\nspicePorts: { start: ${PORTS + 150}, end: ${PORTS + 155} }\n`;
    const dir = tempFleet({ 'agents/fleet.yaml': fleet, 'agents/a.yaml': agentYaml('a') });
    const ok = runCli(['allocate'], dir);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toContain(`sshPort: ${PORTS + 51}\n`);
    writeFileSync(join(dir, 'agents/b.yaml'), `${agentYaml('b')}ports: { ssh: ${PORTS + 50} }\n`);
    writeFileSync(join(dir, 'agents/c.yaml'), 'git: { email: c@example.com }\nvcpus: 1\n');
    const r = runCli(['allocate'], dir);
    expect(r.stderr).toContain(
      `agents/b.yaml:4:15: ports.ssh: SSH port ${PORTS + 50} of agent b is in use by domain ${domain}: stop it, or give the agent another port (ports.ssh in agents/b.yaml)
`,
    );
    expect(r.stderr).toContain(`agents/c.yaml:2:8: vcpus: agent c needs 1 exclusive core(s)`);
    expect(r.stderr).toMatch(new RegExp(`core 1 used by [^;]*domain ${domain}`));
    expect(r.status).toBe(2);
  });

  it("a foreign domain on an agent's recorded port blocks neither down nor destroy, only that agent's start", () => {
    const dir = tempFleet({
      'agents/fleet.yaml':
        'stateDir: ./state\nbaseImage: ./base.qcow2\nreservedCores: []\n' +
        `sshPorts: { start: ${PORTS + 50}, end: ${PORTS + 55} }\nspicePorts: { start: ${PORTS + 150}, end: ${PORTS + 155} }\n`,
      // The foreign domain's SSH port (above).
      'agents/a.yaml': `${agentYaml('a')}ports: { ssh: ${PORTS + 50} }\n`,
      'base.qcow2': '',
    });
    for (const args of [
      ['down'],
      ['down', 'a'],
      ['destroy', 'a', '--yes'],
      ['destroy', 'a', '--purge', '--yes'],
    ]) {
      const r = runCli(args, dir);
      expect(r.status, `fleet ${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(0);
    }
    const plan = runCli(['plan'], dir);
    expect(plan.stdout).toContain(`SSH port ${PORTS + 50} of agent a is in use by domain ${domain}: stop it`);
    expect(plan.status).toBe(1);
  });
});

describe('fleet remove', () => {
  it("deletes the agent's host key file and, keeping the disk, its provisioning progress", () => {
    const hostKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIt6iiHS6FNfAqLSQPp7GfEyzudAlC/LkGwONhDPj/y5';
    const provisioned = { phase: 'disk', hostKey, updatedAt: 'x', provision: { done: 'ready' } };
    const dir = tempFleet({
      'agents/fleet.yaml': `${FLEET_YAML}stateDir: state\nbaseImage: base.qcow2\n`,
      'agents/a.yaml': agentYaml('a'),
      'agents/b.yaml': agentYaml('b'),
      'base.qcow2': 'not really an image',
      'secrets/hosts/a.pub': `${hostKey}\n`,
      'secrets/hosts/b.pub': `${hostKey}\n`,
      'state/state.json': JSON.stringify({ version: 1, agents: { a: provisioned, b: provisioned } }),
    });
    expect(runCli(['allocate'], dir).status).toBe(0);
    // A purge's plan says that the host key retires; the dry run changes nothing.
    const dry = runCli(['--json', 'destroy', '--purge', '--dry-run', 'a'], dir);
    // A dry run's output is the plan's shape (no outcomes yet).
    expect(expectSchema(dry.stdout, 'plan').plan).toMatchObject({
      followUps: [{ kind: 'retire-host-keys', agents: ['a'] }],
    });
    expect(existsSync(join(dir, 'secrets/hosts/a.pub'))).toBe(true);
    const r = runCli(['remove', '--yes', 'a'], dir);
    expect(r.status).toBe(0);
    expect(r.stderr).not.toContain('warning');
    // The plan printed first shows all that remove does, in the order it does it.
    expect(r.stdout).toContain(
      '- then host keys of a will be retired\n' +
        '    # delete secrets/hosts/a.pub and re-encrypt the secrets that list it without it\n\n' +
        '- then agent a will be forgotten\n' +
        '    # delete agents/a.yaml, its ledger entry and its entry in hosts/agents.json\n' +
        '    # forget its provisioning progress (the disk stays; declared again, it provisions again)\n',
    );
    expect(r.stdout).toContain('removed secrets/hosts/a.pub');
    // No domain was left to destroy, but the agent was removed: not "Nothing to do".
    expect(r.stdout).toContain('removed agents/a.yaml and its ledger entry');
    expect(r.stdout).not.toContain('Nothing to do');
    expect(existsSync(join(dir, 'secrets/hosts/a.pub'))).toBe(false);
    expect(existsSync(join(dir, 'secrets/hosts/b.pub'))).toBe(true);
    const state = JSON.parse(readFileSync(join(dir, 'state/state.json'), 'utf8'));
    expect(state.agents.a.provision).toBeUndefined();
    expect(state.agents.a.hostKey).toBe(hostKey);
    expect(state.agents.b.provision).toEqual({ done: 'ready' });
  });
});

describe('fleet xml', () => {
  it('prints domain XML that virt-xml-validate accepts', () => {
    const dir = shippedFleet();
    const isolated = runCli(['xml', 'drago', '--domain-type', 'qemu'], dir);
    expect(isolated.status).toBe(0);
    expect(isolated.stdout).toMatch(
      /stream,id=net0,server=off,addr.type=unix,addr.path=\S+\/run\/agent-drago\/passt.sock/,
    );
    expect(virtXmlValidate(isolated.stdout).ok).toBe(true);
    const r = runCli(
      ['xml', 'drago', '--domain-type', 'qemu', '--network', 'open', '--port-forward', 'hostfwd'],
      dir,
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('<name>agent-drago</name>');
    expect(r.stdout).toContain('hostfwd=tcp:127.0.0.1:2223-:22');
    expect(virtXmlValidate(r.stdout).ok).toBe(true);
    const passt = runCli(
      ['xml', 'luce', '--network', 'open', '--port-forward', 'passt', '--domain-type', 'kvm'],
      dir,
    );
    expect(passt.stdout).toContain('<range start="2224" to="22"/>');
    expect(virtXmlValidate(passt.stdout).ok).toBe(true);
  });

  it("resolves fleet.yaml's 'auto' by probing the agent's libvirt host, as fleet up does", () => {
    const r = runCli(['--log-level', 'info', 'xml', 'luce', '--network', 'open'], shippedFleet());
    expect(r.status).toBe(0);
    // The probe's choice is logged (pino JSON on stderr) and is what the XML uses.
    const forward = /hostfwd=tcp:127\.0\.0\.1:2224-:22/.test(r.stdout) ? 'hostfwd' : 'passt';
    expect(r.stderr).toContain(`"portForward":"${forward}"`);
    expect(virtXmlValidate(r.stdout).ok).toBe(true);
  });

  it('exits 2 for an unknown agent or one without an allocation', () => {
    const dir = tempFleet({ 'agents/fleet.yaml': FLEET_YAML, 'agents/a.yaml': agentYaml('a') });
    const unknown = runCli(['xml', 'zed'], dir);
    expect(unknown.stderr).toBe("fleet: no agent named 'zed' (agents: a)\n");
    expect(unknown.status).toBe(2);
    const unallocated = runCli(['xml', 'a'], dir);
    expect(unallocated.stderr).toBe(
      "fleet: agent 'a' has no allocation in agents/ledger.yaml; run 'fleet allocate'\n",
    );
    expect(unallocated.status).toBe(2);
  });
});
