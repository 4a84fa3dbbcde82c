// A fleet spanning two libvirt hosts on real libvirt + QEMU: this machine's qemu:///system and a second host made
// here (network namespace, sshd, libvirtd with private mounts; see @agentfleet/testing/second-host), reached only
// through its SSH. One agent on each, declared in YAML, the remote one provisioned through its host; a third placed
// by capacity.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureLibvirtd, ensureTestImage, systemUri } from '@agentfleet/testing';
import { fleet, fleetOk, fleetSpawn } from '@agentfleet/testing/fleet-cli';
import { makeSecretsFleet } from '@agentfleet/testing/provision-fixture';
import { type SecondHost, startSecondHost } from '@agentfleet/testing/second-host';
import { spiceHandshakeUnix } from '@agentfleet/testing/spice';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const tag = `${process.pid.toString(36).slice(-2)}${Math.floor(Math.random() * 36 ** 2).toString(36)}`;
const local = `mhl${tag}`;
const remote = `mhr${tag}`;
const third = `mhp${tag}`;
// Ports from this suite's block (42000-42999), subnet from 10.216.0.0/16.
const portBase = 42000 + 100 * Math.floor(Math.random() * 9);
const subnet = `10.216.${Math.floor(Math.random() * 250)}.0`;
const SECRET = `${remote}-token`;
const PLAINTEXT = `secret of ${remote}\n`;
let host: SecondHost | undefined;
let dir: string;
let stateDir: string;

const virsh = (uri: string, ...args: string[]) =>
  execFileSync('virsh', ['-c', uri, ...args], { encoding: 'utf8' });
const domainsOn = (uri: string) => virsh(uri, 'list', '--all', '--name').split('\n').filter(Boolean);
const agentYaml = (extra: string) =>
  `memory: 256MiB\nvcpus: 1\ndesktop: false\nnetwork: none\ngit: { email: a@example.org }\n${extra}\n`;

beforeAll(async () => {
  await ensureLibvirtd();
  const image = await ensureTestImage();
  // A fleet repository with agenix secrets: the remote agent is provisioned through its host (phase 1, rekey to its
  // host key, phase 2). The key fleet logs in with is the admin key the secret starts encrypted to.
  dir = (
    await makeSecretsFleet({ [local]: [], [remote]: [SECRET] }, { [SECRET]: PLAINTEXT }, image.privateKeyPath)
  ).dir;
  stateDir = join(dir, 'state');
  mkdirSync(join(dir, 'agents'));
  host = startSecondHost({ tag, subnet, dirPrefix: 'multihost-host-' });
  writeFileSync(
    join(dir, 'agents', 'fleet.yaml'),
    [
      `libvirtUri: ${systemUri}`,
      `stateDir: ${stateDir}`,
      `baseImage: ${image.baseImage}`,
      'flake: .',
      'domainType: qemu',
      'portForward: hostfwd',
      'reservedCores: []',
      `sshPorts: { start: ${portBase}, end: ${portBase + 40} }`,
      `spicePorts: { start: ${portBase + 50}, end: ${portBase + 90} }`,
      `ssh: { user: root, identityFile: ${image.privateKeyPath} }`,
      'bootTimeouts: { sshSeconds: 240, shutdownSeconds: 60 }',
      'hosts:',
      `  here: { uri: '${systemUri}', reservedCores: [1] }`,
      `  there: { uri: '${host.uri}', reservedCores: [] }`,
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'agents', `${local}.yaml`), agentYaml('host: here\nshareCores: true'));
  writeFileSync(
    join(dir, 'agents', `${remote}.yaml`),
    agentYaml(`host: there\nshareCores: true\nsecrets: [${SECRET}]`),
  );
}, 240_000);

afterAll(() => {
  for (const [uri, name] of [
    [systemUri, local],
    [host?.uri, remote],
  ] as const) {
    if (!uri) continue;
    for (const cmd of ['destroy', 'undefine']) spawnSync('virsh', ['-c', uri, cmd, `agent-${name}`]);
  }
  host?.stop([`agent-${remote}`]);
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe.sequential('a fleet on two libvirt hosts', () => {
  it('brings one agent up on each host, the remote one reached only through its host', {
    timeout: 420_000,
  }, async () => {
    await fleetOk(dir, ['up', '--no-provision']);
    expect(domainsOn(systemUri)).toContain(`agent-${local}`);
    expect(domainsOn(systemUri)).not.toContain(`agent-${remote}`);
    expect(domainsOn(host?.uri as string)).toEqual([`agent-${remote}`]);
    // The remote forward listens on the second host's loopback, not on this machine's.
    const ledger = readFileSync(join(dir, 'agents', 'ledger.yaml'), 'utf8');
    expect(ledger).toContain(host?.uri);
    const status = await fleetOk(dir, ['status']);
    expect(status.stdout).toMatch(/NAME\s+HOST\s+STATE/);
    expect(status.stdout).toMatch(new RegExp(`${local}\\s+here\\s+running`));
    expect(status.stdout).toMatch(new RegExp(`${remote}\\s+there\\s+running`));
    const json = JSON.parse((await fleetOk(dir, ['--json', 'status'])).stdout);
    expect(
      json.agents.map((a: { name: string; host: string; phase: string }) => [a.name, a.host, a.phase]),
    ).toEqual([
      [local, 'here', 'ssh-ready'],
      [remote, 'there', 'ssh-ready'],
    ]);
  });

  it('fleet ssh and plain ssh -F reach both (ProxyJump through the remote host, keys pinned)', async () => {
    for (const name of [local, remote]) {
      const r = await fleet(dir, ['ssh', name, '--', 'cat', '/proc/sys/kernel/hostname']);
      expect(r.code, r.stderr).toBe(0);
    }
    const config = readFileSync(join(stateDir, 'ssh_config'), 'utf8');
    expect(config).toMatch(
      new RegExp(`Host ${remote}\\n[\\s\\S]*?ProxyJump libvirt-host-${host?.address.replace(/\./g, '\\.')}`),
    );
    expect(config).not.toContain('StrictHostKeyChecking no');
    for (const name of [local, remote]) {
      const r = spawnSync('ssh', ['-F', join(stateDir, 'ssh_config'), '-o', 'BatchMode=yes', name, 'true'], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.status, r.stderr).toBe(0);
    }
  }, 180_000);

  it('provisions the remote agent through its host: phase 1, rekey to its host key, phase 2', async () => {
    const r = await fleetOk(dir, ['up', remote]);
    expect(r.stdout).toContain(`${remote}: ok (provision)`);
    const inRemote = async (...cmd: string[]) => {
      const out = await fleet(dir, ['ssh', remote, '--', ...cmd]);
      expect(out.code, out.stderr).toBe(0);
      return out.stdout;
    };
    // The stand-in nixos-rebuild ran twice (phase 1 without the secret, phase 2 with it), and the secret the admin
    // encrypted was re-encrypted to the host key the guest presented through the jump.
    const log = (await inRemote('cat', '/var/log/nixos-rebuild.log')).split('\n');
    expect(log.filter((l) => l.startsWith('switch --flake'))).toHaveLength(2);
    expect(log.filter((l) => l.endsWith(`: ${SECRET}`))).toEqual([
      `skipped: ${SECRET}`,
      `decrypted: ${SECRET}`,
    ]);
    expect(await inRemote('cat', `/run/agenix/${SECRET}`)).toBe(PLAINTEXT);
    const hostKey = readFileSync(join(dir, 'secrets', 'hosts', `${remote}.pub`), 'utf8').trim();
    const state = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')).agents[remote];
    expect(state).toMatchObject({ hostKey, provision: { done: 'ready' } });
    const json = JSON.parse((await fleetOk(dir, ['--json', 'status'])).stdout);
    expect(json.agents.find((a: { name: string }) => a.name === remote)?.phase).toBe('ready');
  }, 420_000);

  it('fleet spice --print of the remote agent opens a tunnel through its host that a SPICE handshake passes', async () => {
    const child = fleetSpawn(dir, ['spice', remote, '--print']);
    try {
      let out = '';
      let err = '';
      child.stderr.on('data', (d) => {
        err += d;
      });
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          out += d;
          if (out.includes('\n')) resolve(out.split('\n')[0] as string);
        });
        child.on('exit', (code) => reject(new Error(`fleet spice exited ${code}: ${err}`)));
      });
      const tunnel = join(stateDir, 'run', `agent-${remote}`, 'spice-tunnel.sock');
      expect(line).toBe(`spice+unix://${tunnel}`);
      expect(statSync(tunnel).mode & 0o777).toBe(0o600);
      // Twice: each client connection gets its own channel through the host.
      for (let i = 0; i < 2; i++) expect((await spiceHandshakeUnix(tunnel)).firstMessageType).toBe(103);
      expect(err).toContain(`its display is on ${host?.uri}`);
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(existsSync(tunnel)).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  }, 120_000);

  it('places a new agent that names no host where cores are free (plan shows the host)', async () => {
    // here: 2 cpus, core 1 reserved, core 0 pinned by the local agent; there: core 1 still free.
    writeFileSync(join(dir, 'agents', `${third}.yaml`), agentYaml(''));
    try {
      const plan = await fleetOk(dir, ['plan', '--no-provision']);
      expect(plan.stdout).toMatch(new RegExp(`agent ${third} will be created[\\s\\S]*?host there \\(`));
    } finally {
      rmSync(join(dir, 'agents', `${third}.yaml`));
    }
  }, 120_000);

  it('destroy --purge removes the remote domain and its volume; the base stays for the next agent', async () => {
    const uri = host?.uri as string;
    const fleetId = /fleetId: (\S+)/.exec(readFileSync(join(dir, 'agents', 'ledger.yaml'), 'utf8'))?.[1];
    const pool = `agentfleet-${fleetId}`;
    const volumes = () =>
      virsh(uri, 'vol-list', '--pool', pool)
        .split('\n')
        .map((l) => l.trim().split(/\s+/)[0]);
    // The remote disk is a volume of the fleet's pool on that host, backed by the base uploaded there once, and
    // nothing of it is on this machine.
    const disk = `/var/lib/libvirt/images/${pool}/agent-${remote}.qcow2`;
    expect(volumes()).toContain(`agent-${remote}.qcow2`);
    expect(volumes().filter((v) => /^base-[0-9a-f]{64}\.qcow2$/.test(v ?? ''))).toHaveLength(1);
    expect(virsh(uri, 'vol-dumpxml', '--pool', pool, `agent-${remote}.qcow2`)).toMatch(
      new RegExp(`<backingStore>\\s*<path>/var/lib/libvirt/images/${pool}/base-[0-9a-f]{64}\\.qcow2</path>`),
    );
    expect(virsh(uri, 'domblklist', `agent-${remote}`)).toContain(disk);
    expect(existsSync(disk)).toBe(false);
    expect(existsSync(join(stateDir, `agent-${remote}.qcow2`))).toBe(false);
    await fleetOk(dir, ['destroy', remote, '--purge', '--yes']);
    expect(domainsOn(uri)).toEqual([]);
    expect(volumes()).not.toContain(`agent-${remote}.qcow2`);
    expect(volumes().some((v) => v?.startsWith('base-'))).toBe(true);
    expect(domainsOn(systemUri)).toContain(`agent-${local}`);
    expect(existsSync(join(stateDir, `agent-${local}.qcow2`))).toBe(true);
  }, 180_000);
});
