// A fleet spanning two libvirt hosts on real libvirt + QEMU: this machine's qemu:///system and a second host made
// here (network namespace, sshd, libvirtd with private mounts; see @agentfleet/testing/second-host), reached only
// through its SSH. One agent on each, declared in YAML, the remote one isolated by a passt fleet runs on its host and
// provisioned through that host; a third placed by capacity.
import { type ChildProcess, execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { ensurePasstUser } from '@agentfleet/engine/adapters/passt-firewall';
import {
  bannerListener,
  ensureLibvirtd,
  ensureTestImage,
  passtPidsOf,
  portBlock,
  stopPassts,
  systemUri,
} from '@agentfleet/testing';
import { fleet, fleetOk, fleetSpawn } from '@agentfleet/testing/fleet-cli';
import { makeSecretsFleet } from '@agentfleet/testing/provision-fixture';
import { type SecondHost, startSecondHost } from '@agentfleet/testing/second-host';
import { spiceHandshakeUnix } from '@agentfleet/testing/spice';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const tag = `${process.pid.toString(36).slice(-2)}${Math.floor(Math.random() * 36 ** 2).toString(36)}`;
const local = `mhl${tag}`;
const remote = `mhr${tag}`;
const third = `mhp${tag}`;
// A port block of its own (reserved machine-wide, below the ephemeral range), subnet from 10.216.0.0/16.
const portBase = portBlock();
const subnet = `10.216.${Math.floor(Math.random() * 250)}.0`;
/** Listeners on the remote host's loopback, on all its addresses, and in the world its default route leads to. */
const HOST_LO_PORT = portBase + 95;
const HOST_ANY_PORT = portBase + 96;
const WORLD_PORT = portBase + 97;
const listeners: ChildProcess[] = [];
const SECRET = `${remote}-token`;
const PLAINTEXT = `secret of ${remote}\n`;
let host: SecondHost | undefined;
let dir: string;
let stateDir: string;

const virsh = (uri: string, ...args: string[]) =>
  execFileSync('virsh', ['-c', uri, ...args], { encoding: 'utf8' });
const fleetIdOf = () => /fleetId: (\S+)/.exec(readFileSync(join(dir, 'agents', 'ledger.yaml'), 'utf8'))?.[1];
/** Where the remote host's QEMU reads the remote agent's pre-generated key (the host's /var/lib is this machine's). */
const remoteKey = () => `/var/lib/agentfleet/${fleetIdOf()}/hostkeys/agent-${remote}_ed25519`;
const domainsOn = (uri: string) => virsh(uri, 'list', '--all', '--name').split('\n').filter(Boolean);
const agentYaml = (extra: string, network = 'none') =>
  `memory: 256MiB\nvcpus: 1\ndesktop: false\nnetwork: ${network}\ngit: { email: a@example.org }\n${extra}\n`;
const inNs = (ns: string, ...cmd: string[]) =>
  execFileSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8' });

/** A TCP server in `ns` that sends `banner` to whoever connects. */
const listen = (ns: string, address: string, port: number, banner: string) =>
  listeners.push(bannerListener(ns, address, port, banner));

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
  // The host sees none of the fleet's directory (its state dir included): what a remote agent needs is on its host.
  host = startSecondHost({ tag, subnet, dirPrefix: 'multihost-host-', hide: [dir] });
  // The remote agent is isolated with networkFirewall (auto: fleet logs in to the host as root), which needs the
  // passt user on the host: the operator's step there (the host shares this machine's /etc/passwd).
  await ensurePasstUser();
  listen(host.netns, '127.0.0.1', HOST_LO_PORT, 'LEAK-host-lo');
  listen(host.netns, '0.0.0.0', HOST_ANY_PORT, 'LEAK-host-any');
  listen(host.world.netns, '0.0.0.0', WORLD_PORT, 'WORLD');
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
      'bootTimeouts: { sshSeconds: 420, shutdownSeconds: 60 }',
      'hosts:',
      `  here: { uri: '${systemUri}', reservedCores: [1] }`,
      `  there: { uri: '${host.uri}', reservedCores: [] }`,
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'agents', `${local}.yaml`), agentYaml('host: here\nshareCores: true'));
  writeFileSync(
    join(dir, 'agents', `${remote}.yaml`),
    agentYaml(`host: there\nshareCores: true\nsecrets: [${SECRET}]`, 'isolated'),
  );
}, 240_000);

afterAll(() => {
  for (const l of listeners) l.kill('SIGKILL');
  const ledger = dir ? join(dir, 'agents', 'ledger.yaml') : undefined;
  const fleetId =
    ledger && existsSync(ledger) ? /fleetId: (\S+)/.exec(readFileSync(ledger, 'utf8'))?.[1] : undefined;
  for (const [uri, name] of [
    [systemUri, local],
    [host?.uri, remote],
  ] as const) {
    if (!uri) continue;
    for (const cmd of ['destroy', 'undefine']) spawnSync('virsh', ['-c', uri, cmd, `agent-${name}`]);
  }
  host?.stop([`agent-${remote}`]);
  // Its passt runs on the host (a process of this machine's here), its sockets under the host's /run (this machine's).
  stopPassts([remote]);
  for (const f of existsSync('/run/agentfleet-passt') ? readdirSync('/run/agentfleet-passt') : [])
    if (f.includes(`-agent-${remote}.`)) rmSync(join('/run/agentfleet-passt', f), { force: true });
  if (fleetId)
    for (const d of ['/run/agentfleet', '/var/lib/agentfleet']) {
      rmSync(join(d, fleetId), { recursive: true, force: true });
      // The parents too, unless another fleet (another test) has files there (rmdir refuses then).
      try {
        rmdirSync(d);
      } catch {}
    }
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe.sequential('a fleet on two libvirt hosts', () => {
  it('brings one agent up on each host, the remote one reached only through its host', {
    timeout: 600_000,
  }, async () => {
    const up = await fleetOk(dir, ['up', '--no-provision']);
    // The libssh2 transport leaves libvirt's event loop alone (the libssh one, refused by fleet, quits a freed loop).
    expect(up.stderr).not.toContain('GLib-CRITICAL');
    // Both host keys were made here before first boot. The remote agent's QEMU read its copy on its host (put there
    // over SFTP; the provisioning case below shows the guest installed it from fw_cfg), and once the guest presented
    // that key the hand-over ended: the copies there and here are gone and the definition names no key file.
    expect(up.stderr).toContain(`${remote}: host key pre-generated`);
    const handedOver = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')).agents[remote];
    expect(handedOver.hostKeyHandedOver).toBe(true);
    expect(existsSync(remoteKey())).toBe(false);
    expect(existsSync(join(stateDir, 'hostkeys', `agent-${remote}_ed25519`))).toBe(false);
    expect(virsh(host?.uri as string, 'dumpxml', '--inactive', `agent-${remote}`)).not.toContain('hostkeys');
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
    // The remote agent's console log is its host's (virtlogd writes it there; fleet reads it over the host's SSH).
    const logs = JSON.parse((await fleetOk(dir, ['--json', 'logs', remote, '-n', '5'])).stdout);
    expect(logs.path).toBe(`/var/log/libvirt/qemu/agent-${remote}.console.log`);
    expect(logs.lines.length).toBeGreaterThan(0);
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

  it('provisions the remote agent through its host with the key made here: one rebuild, the secret decrypted', async () => {
    const r = await fleetOk(dir, ['up', remote]);
    expect(r.stdout).toContain(`${remote}: ok (provision)`);
    const inRemote = async (...cmd: string[]) => {
      const out = await fleet(dir, ['ssh', remote, '--', ...cmd]);
      expect(out.code, out.stderr).toBe(0);
      return out.stdout;
    };
    // The guest took the key fleet made from fw_cfg on its host, the secret the admin encrypted was re-encrypted to it
    // before the first rebuild, and the stand-in nixos-rebuild ran once and decrypted it.
    const hostKey = readFileSync(join(dir, 'secrets', 'hosts', `${remote}.pub`), 'utf8').trim();
    expect(await inRemote('cat', '/var/log/agentfleet-hostkey.log')).toContain(
      `installed /var/ssh/ssh_host_ed25519_key from fw_cfg (${hostKey})`,
    );
    const log = (await inRemote('cat', '/var/log/nixos-rebuild.log')).split('\n');
    expect(log.filter((l) => l.startsWith('switch --flake'))).toHaveLength(1);
    expect(log.filter((l) => l.endsWith(`: ${SECRET}`))).toEqual([`decrypted: ${SECRET}`]);
    expect(await inRemote('cat', `/run/agenix/${SECRET}`)).toBe(PLAINTEXT);
    const state = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')).agents[remote];
    expect(state).toMatchObject({ hostKey, provision: { done: 'ready' } });
    const json = JSON.parse((await fleetOk(dir, ['--json', 'status'])).stdout);
    expect(json.agents.find((a: { name: string }) => a.name === remote)?.phase).toBe('ready');
  }, 420_000);

  it("isolates the remote agent with a passt on its host: that host's loopback and own addresses, the other agent's SSH, all unreachable from inside; the world answers", async () => {
    const h = host as SecondHost;
    const fleetId = /fleetId: (\S+)/.exec(readFileSync(join(dir, 'agents', 'ledger.yaml'), 'utf8'))?.[1];
    const ledgerPort = (agent: string) =>
      Number(
        new RegExp(`${agent}:\\n {6}sshPort: (\\d+)`).exec(
          readFileSync(join(dir, 'agents', 'ledger.yaml'), 'utf8'),
        )?.[1],
      );
    const read = (ns: string, address: string, port: number) =>
      inNs(
        ns,
        'python3',
        '-c',
        `import socket;c=socket.create_connection((${JSON.stringify(address)},${port}),3);print(c.recv(64).decode())`,
      );
    // The listeners answer where they are (else every refusal below would prove nothing).
    expect(read(h.netns, '127.0.0.1', HOST_LO_PORT)).toContain('LEAK-host-lo');
    expect(read(h.netns, h.address, HOST_ANY_PORT)).toContain('LEAK-host-any');
    expect(read(h.netns, h.world.address, WORLD_PORT)).toContain('WORLD');
    // The passt QEMU joins runs on the remote host (its namespace), as agentfleet-passt behind the fleet's table
    // there; this machine's namespace has no table of it.
    const [pid, ...more] = passtPidsOf([remote]);
    expect(more).toEqual([]);
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    expect(argv).toContain('--no-map-gw');
    expect(readlinkSync(`/proc/${pid}/ns/net`)).toBe(inNs(h.netns, 'readlink', '/proc/self/ns/net').trim());
    expect(execFileSync('ps', ['-o', 'user=', '-p', String(pid)], { encoding: 'utf8' }).trim()).toBe(
      'agentfleet-passt',
    );
    expect(virsh(h.uri, 'dumpxml', `agent-${remote}`)).toContain(
      `addr.path=/run/agentfleet/${fleetId}/run/agent-${remote}/passt.sock`,
    );
    const table = /table inet (agentfleet_[0-9a-f]{12})/.exec(inNs(h.netns, 'nft', 'list', 'tables'))?.[1];
    expect(table).toBeDefined();
    expect(execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' })).not.toContain(table);
    // From inside the remote agent (over its own SSH through fleet, which is the proof that works): every probe at
    // once, each nc waiting up to 3 s; an SSH forward is asked as an SSH client asks, speaking first.
    const gateway = /default via (\S+)/.exec(
      (await fleetOk(dir, ['ssh', remote, '--', 'ip', 'route'])).stdout,
    )?.[1];
    expect(gateway).toBeDefined();
    const machineSide = subnet.replace(/\.0$/, '.1');
    const targets: Record<string, string> = {
      world: `${h.world.address} ${WORLD_PORT}`,
      'gw-hostlo': `${gateway} ${HOST_LO_PORT}`,
      'slirp-hostlo': `10.0.2.2 ${HOST_LO_PORT}`,
      'host-any': `${h.address} ${HOST_ANY_PORT}`,
      'gw-own-bssh': `${gateway} ${ledgerPort(remote)}`,
      'host-own-bssh': `${h.address} ${ledgerPort(remote)}`,
      'other-bssh': `${machineSide} ${ledgerPort(local)}`,
      'gw-other-bssh': `${gateway} ${ledgerPort(local)}`,
    };
    const script = Object.entries(targets)
      .map(
        ([name, hostPort]) =>
          `( out=$(${name.endsWith('-bssh') ? 'printf "SSH-2.0-probe\\r\\n" |' : ''} timeout 5 nc -w 3 ${hostPort} ${name.endsWith('-bssh') ? '' : '</dev/null'} 2>&1 | head -c 80); echo "${name}=[$out]" ) &`,
      )
      .join('\n');
    const out = (await fleetOk(dir, ['ssh', remote, '--', 'sh', '-c', `'${script}\nwait'`])).stdout;
    const seen: Record<string, string> = {};
    for (const m of out.matchAll(/^(\S+?)=\[([\s\S]*?)\]$/gm)) seen[m[1] as string] = m[2] as string;
    expect(Object.keys(seen).sort()).toEqual(Object.keys(targets).sort());
    expect(seen.world).toContain('WORLD');
    for (const [name, said] of Object.entries(seen))
      if (name !== 'world') expect(said, name).not.toMatch(/LEAK|SSH-2\.0/);
  }, 180_000);

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

  it('destroy --purge removes the remote domain, its volume, and with its last user the base volume (shown in the plan)', async () => {
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
    const base = volumes().find((v) => /^base-[0-9a-f]{64}\.qcow2$/.test(v ?? ''));
    const destroyed = await fleetOk(dir, ['destroy', remote, '--purge', '--yes']);
    expect(destroyed.stderr).not.toContain('GLib-CRITICAL');
    expect(destroyed.stdout).toContain(`- base volume ${base} on there will be removed`);
    expect(domainsOn(uri)).toEqual([]);
    expect(volumes()).not.toContain(`agent-${remote}.qcow2`);
    // Its passt and the fleet's table on the host went with the domain.
    expect(passtPidsOf([remote])).toEqual([]);
    expect(inNs((host as SecondHost).netns, 'nft', 'list', 'tables')).not.toContain('agentfleet_');
    expect(volumes().filter((v) => v?.startsWith('base-'))).toEqual([]);
    // Nothing left to collect: the next plan has no work on that host.
    expect((await fleetOk(dir, ['plan', '--no-provision'])).stdout).not.toContain('base volume');
    expect(domainsOn(systemUri)).toContain(`agent-${local}`);
    expect(existsSync(join(stateDir, `agent-${local}.qcow2`))).toBe(true);
  }, 180_000);
});
