// Isolation as an attacker inside an agent sees it (issue #10): from inside agent A, nothing of the
// host's loopback (v4, v6; in the namespace fleet runs in and in the machine's own), nothing of
// agent B (its SSH forward, its display) answers, through 10.0.2.2, fec0::2 or A's gateway; with
// networkFirewall (on as root) neither do a host service on 0.0.0.0, the LAN (RFC 1918) nor
// 169.254.169.254; the outside world does. With networkFirewall: off those three answer (the
// residual passt alone leaves); with network: none nothing does. And no host private key is on a
// command line, in a domain XML or in a log.
//
// Guest traffic may only reach namespaces this test makes: fleet (and so every passt it starts)
// runs in a namespace "host" whose default route leads to a namespace "outside" holding the
// listeners (the outside world on a TEST-NET-2 address, which is neither private nor link-local;
// a "LAN host" and "metadata"); 10.0.2.2 and fec0::2 are blackholed in the machine's own namespace
// while it runs. The network: none case runs fleet in the machine's own namespace (QEMU's hostfwd
// listens there) and aims at a namespace the test attaches to it.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bannerListener,
  ensureLibvirtd,
  ensureTestImage,
  stopPassts,
  systemUri,
  type TestImage,
} from '@agentfleet/testing';
import { fleetMain } from '@agentfleet/testing/fleet-cli';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const VM_TIMEOUT = 300_000;
const id = Math.floor(Math.random() * 36 ** 4).toString(36);
const HOST_NS = `in-host-${id}`;
const OUT_NS = `in-out-${id}`;
const NONE_NS = `net-none-${id}`;
/** TEST-NET-2 (RFC 5737): public-looking, so networkFirewall lets the guest reach it as the outside world. */
const HOST_IP = '198.51.100.1';
const OUT_IP = '198.51.100.2';
const third = Math.floor(Math.random() * 250) + 1;
/** A host on the LAN, and cloud metadata: both in "outside", routed like the outside world. */
const LAN_IP = `10.221.${third}.2`;
const METADATA_IP = '169.254.169.254';
/** The machine's side of the veth to NONE_NS, and NONE_NS's address (a world a none guest must not reach). */
const [MACHINE_VETH_IP, NONE_WORLD_IP] = [`10.221.${(third + 1) % 250}.1`, `10.221.${(third + 1) % 250}.2`];
const [A, B] = [`in${id}a`, `in${id}b`];
const portBase = 30500 + Math.floor(Math.random() * 40) * 10;
/** Listeners the guest must never reach: in fleet's namespace, and in the machine's own. */
const NS_LOOPBACK_PORT = portBase + 1;
const MACHINE_LOOPBACK_PORT = portBase + 2;
const OUTSIDE_PORT = portBase + 3;
/**
 * A host service on 0.0.0.0 in fleet's namespace, asked at a second, public-looking address of the
 * host (as a bridge or a second NIC would have): passt gives the guest HOST_IP as its own address,
 * so from inside the guest HOST_IP is the guest itself.
 */
const HOST_ANY_PORT = portBase + 10;
const HOST_ALT_IP = '203.0.113.1';

let dir: string;
let stateDir: string;
let image: TestImage;
const children: ChildProcess[] = [];
const blackholes: string[][] = [];

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' });
const inNs = (ns: string, cmd: string, args: string[]) => run('ip', ['netns', 'exec', ns, cmd, ...args]);
const virsh = (...args: string[]) => run('virsh', ['-c', systemUri, ...args]);

/** fleet in the namespace playing the host, or (ns null) in the machine's own. */
function fleetIn(
  ns: string | null,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const argv = [process.execPath, fleetMain, '--dir', dir, ...args];
    const child = spawn(
      ns ? 'ip' : (argv[0] as string),
      ns ? ['netns', 'exec', ns, ...argv] : argv.slice(1),
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const fleetInHost = (args: string[]) => fleetIn(HOST_NS, args);

async function fleetOkIn(ns: string | null, args: string[]): Promise<string> {
  const r = await fleetIn(ns, args);
  if (r.code !== 0) throw new Error(`fleet ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const fleetOkInHost = (args: string[]) => fleetOkIn(HOST_NS, args);

const fleetYaml = (extra: string[] = []) =>
  [
    `libvirtUri: ${systemUri}`,
    `stateDir: ${stateDir}`,
    `baseImage: ${image.baseImage}`,
    'domainType: qemu',
    'diskMode: overlay',
    'reservedCores: []',
    `sshPorts: { start: ${portBase + 4}, end: ${portBase + 6} }`,
    `spicePorts: { start: ${portBase + 7}, end: ${portBase + 9} }`,
    `ssh: { user: root, identityFile: ${image.privateKeyPath} }`,
    'bootTimeouts: { sshSeconds: 240, shutdownSeconds: 60 }',
    ...extra,
    '',
  ].join('\n');

/** A listener answering every connection with `banner` (and a newline), in a namespace or the machine's own. */
const nsListener = (ns: string | undefined, host: string, port: number, banner: string) =>
  children.push(bannerListener(ns, host, port, `${banner}\n`));

function addBlackhole(args: string[]): void {
  try {
    run('ip', [...args.slice(0, -1), 'add', 'blackhole', args.at(-1) as string]);
    blackholes.push(args);
  } catch (err) {
    // Another suite's blackhole for the same address protects this run as well; it removes its own.
    if (!String((err as { stderr?: string }).stderr ?? err).includes('File exists')) throw err;
  }
}

beforeAll(async () => {
  await ensureLibvirtd();
  image = await ensureTestImage();
  const vh = `in${id}h`;
  const vo = `in${id}o`;
  run('ip', ['netns', 'add', HOST_NS]);
  run('ip', ['netns', 'add', OUT_NS]);
  run('ip', ['link', 'add', vh, 'type', 'veth', 'peer', 'name', vo]);
  run('ip', ['link', 'set', vh, 'netns', HOST_NS]);
  run('ip', ['link', 'set', vo, 'netns', OUT_NS]);
  for (const [ns, dev, ip] of [
    [HOST_NS, vh, HOST_IP],
    [OUT_NS, vo, OUT_IP],
  ] as const) {
    inNs(ns, 'ip', ['link', 'set', 'lo', 'up']);
    inNs(ns, 'ip', ['addr', 'add', `${ip}/30`, 'dev', dev]);
    inNs(ns, 'ip', ['link', 'set', dev, 'up']);
  }
  inNs(HOST_NS, 'ip', ['route', 'add', 'default', 'via', OUT_IP]);
  for (const ip of [LAN_IP, METADATA_IP]) inNs(OUT_NS, 'ip', ['addr', 'add', `${ip}/32`, 'dev', 'lo']);
  inNs(HOST_NS, 'ip', ['addr', 'add', `${HOST_ALT_IP}/32`, 'dev', 'lo']);
  // The none case's world: a namespace on a veth of the machine's own (no route beyond it).
  const [vm, vn] = [`net${id}m`, `net${id}n`];
  run('ip', ['netns', 'add', NONE_NS]);
  run('ip', ['link', 'add', vm, 'type', 'veth', 'peer', 'name', vn]);
  run('ip', ['link', 'set', vn, 'netns', NONE_NS]);
  run('ip', ['addr', 'add', `${MACHINE_VETH_IP}/30`, 'dev', vm]);
  run('ip', ['link', 'set', vm, 'up']);
  inNs(NONE_NS, 'ip', ['addr', 'add', `${NONE_WORLD_IP}/30`, 'dev', vn]);
  inNs(NONE_NS, 'ip', ['link', 'set', vn, 'up']);
  addBlackhole(['route', '10.0.2.2/32']);
  addBlackhole(['-6', 'route', 'fec0::2/128']);

  nsListener(HOST_NS, '127.0.0.1', NS_LOOPBACK_PORT, 'LEAK-ns-lo4');
  nsListener(HOST_NS, '::1', NS_LOOPBACK_PORT, 'LEAK-ns-lo6');
  nsListener(OUT_NS, OUT_IP, OUTSIDE_PORT, 'OUTSIDE-WORLD');
  nsListener(OUT_NS, LAN_IP, OUTSIDE_PORT, 'LEAK-lan');
  nsListener(OUT_NS, METADATA_IP, OUTSIDE_PORT, 'LEAK-metadata');
  nsListener(HOST_NS, '0.0.0.0', HOST_ANY_PORT, 'LEAK-host-any');
  nsListener(NONE_NS, NONE_WORLD_IP, OUTSIDE_PORT, 'LEAK-none-world');
  nsListener(undefined, '127.0.0.1', MACHINE_LOOPBACK_PORT, 'LEAK-machine-lo4');
  nsListener(undefined, '::1', MACHINE_LOOPBACK_PORT, 'LEAK-machine-lo6');

  dir = mkdtempSync(join(tmpdir(), 'isonet-e2e-'));
  stateDir = join(dir, 'state');
  mkdirSync(join(dir, 'agents'));
  // networkFirewall is left at its default (auto: on, as the test runs as root). Host keys are made here before
  // first boot by default and handed over via fw_cfg.
  writeFileSync(join(dir, 'agents', 'fleet.yaml'), fleetYaml());
  for (const n of [A, B]) writeAgent(n);
  await fleetOkInHost(['up', '--no-provision']);
  for (const n of [A, B]) firstPin[n] = pinnedKey(n);
}, VM_TIMEOUT);

afterAll(async () => {
  if (dir) await fleetInHost(['destroy', '--purge', '--yes', A, B]).catch(() => undefined);
  for (const n of [A, B]) {
    try {
      virsh('destroy', `agent-${n}`);
    } catch {}
    try {
      virsh('undefine', `agent-${n}`);
    } catch {}
  }
  stopPassts([A, B]);
  for (const c of children) c.kill('SIGKILL');
  for (const args of blackholes) {
    try {
      run('ip', [...args.slice(0, -1), 'del', 'blackhole', args.at(-1) as string]);
    } catch {}
  }
  for (const ns of [HOST_NS, OUT_NS, NONE_NS]) {
    try {
      run('ip', ['netns', 'del', ns]);
    } catch {}
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
}, VM_TIMEOUT);

function writeAgent(name: string, extra = ''): void {
  writeFileSync(
    join(dir, 'agents', `${name}.yaml`),
    `memory: 256MiB\nvcpus: 1\nshareCores: true\ndesktop: false\ngit: { email: ${name}@example.org }\n${extra}`,
  );
}

/** The user the passt of an agent runs as ('' when none runs). */
function passtUser(agent: string): string {
  try {
    const pid = run('pgrep', ['-f', '--', `--socket [^ ]*[/-]agent-${agent}[/.]`])
      .trim()
      .split('\n')[0] as string;
    return run('ps', ['-o', 'user=', '-p', pid]).trim();
  } catch {
    return '';
  }
}

/** The key fleet pinned for an agent (state.json), "ssh-ed25519 AAAA...". */
const pinnedKey = (agent: string): string =>
  JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')).agents[agent].hostKey;

/** Each pin as `up` first recorded it, to compare later boots against. */
const firstPin: Record<string, string> = {};

/** "(source) ssh-ed25519 AAAA..." of each boot's AGENTFLEET HOSTKEY console line, in order. */
const hostKeyLines = (serial: string) =>
  [...serial.matchAll(/AGENTFLEET HOSTKEY (\(\S+\) \S+ \S+)/g)].map((m) => m[1]);

/** Every process's command line (NUL-separated), as far as it can be read. */
const cmdlines = () =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8');
      } catch {
        return '';
      }
    });

/** Files under `paths` holding `text` that `user` can read (grep -r as that user; unreadable ones are skipped). */
function grepFiles(user: 'root' | 'nobody', text: string, paths: string[]): string[] {
  const as = user === 'root' ? [] : ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
  const argv = [...as, 'grep', '-rlsF', '-D', 'skip', '-e', text, '--', ...paths];
  const r = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', maxBuffer: 1 << 24 });
  // 0: found, 1: nothing found, 2: something was unreadable (expected as nobody) or vanished (a process).
  if (r.status === null || r.status > 2) throw new Error(`grep as ${user}: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean).sort();
}

/** Names of the nftables tables in fleet's namespace. */
const nftTables = () => inNs(HOST_NS, 'nft', ['list', 'tables']);

const ledgerPort = (agent: string, field: 'sshPort' | 'spicePort') => {
  const ledger = readFileSync(join(dir, 'agents', 'ledger.yaml'), 'utf8');
  const m = new RegExp(`${agent}:\\n {6}sshPort: (\\d+)\\n {6}spicePort: (\\d+)`).exec(ledger);
  return Number(m?.[field === 'sshPort' ? 1 : 2]);
};

/**
 * Runs every probe at once inside A and returns what each one read. Each `nc` waits up to 10 s: a refusal
 * comes at once (RST or the firewall's ICMP), and an answer from a TCG guest under CI's load can take seconds.
 */
async function probeFromA(
  targets: Record<string, string>,
  fleetNs: string | null = HOST_NS,
): Promise<Record<string, string>> {
  const script = Object.entries(targets)
    .map(
      ([name, hostPort]) =>
        // An SSH forward is asked as an SSH client asks (speaking first): passt 2023-03-09 holds the
        // guest's side of a connection until the client sends, so a silent probe could miss a leak.
        `( out=$(${name.endsWith('-bssh') ? 'printf "SSH-2.0-probe\\r\\n" |' : ''} timeout 12 nc -w 10 ${hostPort} ${name.endsWith('-bssh') ? '' : '</dev/null'} 2>&1 | head -c 80); echo "${name}=[$out]" ) &`,
    )
    .join('\n');
  const out = await fleetOkIn(fleetNs, ['ssh', A, '--', 'sh', '-c', `'${script}\nwait'`]);
  const results: Record<string, string> = {};
  for (const m of out.matchAll(/^(\S+?)=\[([\s\S]*?)\]$/gm)) results[m[1] as string] = m[2] as string;
  return results;
}

/** What only networkFirewall keeps from an isolated guest (passt itself forwards there). */
const firewalled: Record<string, string> = {
  'fw-hostany': `${HOST_ALT_IP} ${HOST_ANY_PORT}`,
  'fw-lan': `${LAN_IP} ${OUTSIDE_PORT}`,
  'fw-metadata': `${METADATA_IP} ${OUTSIDE_PORT}`,
};

describe.sequential('isolation of an agent (network: isolated, the default)', () => {
  it('the test listeners are really up (else every refusal below would prove nothing)', async () => {
    // For B's SSH forward the client speaks first, as SSH clients do: passt 2023-03-09 completes the
    // guest's side of a forwarded connection only once the host side has sent something (README).
    const read = (host: string, port: number, ns?: string, hello = '') => {
      const send = hello ? `c.sendall(${JSON.stringify(hello)}.encode());` : '';
      const py = `import socket;c=socket.create_connection((${JSON.stringify(host)},${port}),30);${send}print(c.recv(64).decode('latin1'))`;
      return ns ? inNs(ns, 'python3', ['-c', py]) : run('python3', ['-c', py]);
    };
    expect(read('127.0.0.1', NS_LOOPBACK_PORT, HOST_NS)).toContain('LEAK-ns-lo4');
    expect(read('::1', NS_LOOPBACK_PORT, HOST_NS)).toContain('LEAK-ns-lo6');
    expect(read('127.0.0.1', MACHINE_LOOPBACK_PORT)).toContain('LEAK-machine-lo4');
    expect(read('::1', MACHINE_LOOPBACK_PORT)).toContain('LEAK-machine-lo6');
    expect(read('127.0.0.1', ledgerPort(B, 'sshPort'), HOST_NS, 'SSH-2.0-isolation_test\r\n')).toMatch(
      /^SSH-2.0/,
    );
    // What networkFirewall is for: answered in fleet's namespace for anyone but the confined passt.
    expect(read(HOST_ALT_IP, HOST_ANY_PORT, HOST_NS)).toContain('LEAK-host-any');
    expect(read(LAN_IP, OUTSIDE_PORT, HOST_NS)).toContain('LEAK-lan');
    expect(read(METADATA_IP, OUTSIDE_PORT, HOST_NS)).toContain('LEAK-metadata');
    expect(read(NONE_WORLD_IP, OUTSIDE_PORT)).toContain('LEAK-none-world');
  });

  it("each isolated agent's passt runs as agentfleet-passt, behind this fleet's nftables table in fleet's namespace", () => {
    expect(passtUser(A)).toBe('agentfleet-passt');
    expect(passtUser(B)).toBe('agentfleet-passt');
    expect(nftTables()).toMatch(/table inet agentfleet_[0-9a-f]{12}/);
    // Rules live in the namespace fleet runs in: the machine's own gets none from this fleet.
    expect(run('nft', ['list', 'tables'])).not.toContain(
      /table inet (agentfleet_[0-9a-f]{12})/.exec(nftTables())?.[1],
    );
  });

  it(
    "from inside A: host loopback, B's SSH forward, through 10.0.2.2, fec0::2 and the gateway, a host service on 0.0.0.0, the LAN and 169.254.169.254, all refused; the outside world answers",
    async () => {
      const gateway = (await fleetOkInHost(['ssh', A, '--', 'ip', 'route'])).match(/default via (\S+)/)?.[1];
      expect(gateway).toBeDefined();
      const bSsh = ledgerPort(B, 'sshPort');
      const bSpice = ledgerPort(B, 'spicePort');
      const targets: Record<string, string> = { outside: `${OUT_IP} ${OUTSIDE_PORT}` };
      for (const [via, host] of [
        ['slirp4', '10.0.2.2'],
        ['slirp6', 'fec0::2'],
        // Not HOST_IP: passt gives the guest that address as its own, so it would ask the guest
        // itself; the host's other addresses are the fw-hostany probe's.
        ['gw', gateway as string],
      ] as const) {
        targets[`${via}-nslo`] = `${host} ${NS_LOOPBACK_PORT}`;
        targets[`${via}-machinelo`] = `${host} ${MACHINE_LOOPBACK_PORT}`;
        targets[`${via}-bssh`] = `${host} ${bSsh}`;
        targets[`${via}-bspice`] = `${host} ${bSpice}`;
      }
      Object.assign(targets, firewalled);
      const results = await probeFromA(targets);
      expect(Object.keys(results).sort()).toEqual(Object.keys(targets).sort());
      expect(results.outside).toContain('OUTSIDE-WORLD');
      for (const [name, got] of Object.entries(results)) {
        if (name === 'outside') continue;
        expect(got, `${name} (${targets[name]})`).not.toMatch(/LEAK|SSH-|REDQ/);
      }
    },
    VM_TIMEOUT,
  );

  it("B's display has no TCP port at all: QEMU listens only on its socket in a 0700 directory", () => {
    const pid = readFileSync(`/run/libvirt/qemu/agent-${B}.pid`, 'utf8').trim();
    const spice = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .find((a) => a.includes('disable-ticketing') || a.startsWith('unix=on'));
    expect(spice).toContain(`addr=${join(stateDir, 'run', `agent-${B}`, 'spice.sock')}`);
    const listening = run('ss', ['-ltnpH'])
      .split('\n')
      .filter((l) => l.includes(`pid=${pid},`));
    expect(listening).toEqual([]);
  });

  it('fleet ssh and plain ssh -F reach both agents', async () => {
    for (const n of [A, B]) {
      expect((await fleetOkInHost(['ssh', n, '--', 'hostname'])).trim()).not.toBe('');
      const plain = inNs(HOST_NS, 'ssh', [
        '-F',
        join(stateDir, 'ssh_config'),
        '-o',
        'BatchMode=yes',
        n,
        'echo ok',
      ]);
      expect(plain.trim()).toBe('ok');
    }
  });

  it('the guest took the key made for it; after that first verified contact the host copy is gone, the definition no longer names it, and no PRIVATE KEY is in any cmdline, domain XML or QEMU log', () => {
    expect(statSync(join(stateDir, 'hostkeys')).mode & 0o777).toBe(0o700);
    for (const n of [A, B]) {
      const keyFile = join(stateDir, 'hostkeys', `agent-${n}_ed25519`);
      const serial = readFileSync(join(stateDir, `agent-${n}.console.log`), 'utf8');
      // Handed over (the guest says where its key came from) and pinned before first boot: `up` verified it.
      expect(hostKeyLines(serial)).toEqual([`(fw_cfg) ${pinnedKey(n)}`]);
      expect(existsSync(keyFile)).toBe(false);
      expect(existsSync(`${keyFile}.pub`)).toBe(false);
      // The next boot's definition has no fw_cfg entry; the running QEMU read the file when it started.
      expect(virsh('dumpxml', '--inactive', `agent-${n}`)).not.toContain('hostkeys');
      expect(virsh('dumpxml', `agent-${n}`)).toContain(`file='${keyFile}'`);
      expect(virsh('dumpxml', `agent-${n}`)).not.toContain('PRIVATE KEY');
      expect(readFileSync(`/var/log/libvirt/qemu/agent-${n}.log`, 'utf8')).not.toContain('PRIVATE KEY');
    }
    // Every process of this test's fleet (QEMU, passt): the machine is shared with other suites,
    // whose processes are theirs to answer for.
    const ours = cmdlines().filter((cmdline) => cmdline.includes(stateDir));
    expect(ours.filter((c) => c.includes('qemu-system')).length).toBe(2);
    expect(ours.filter((c) => c.includes('PRIVATE KEY'))).toEqual([]);
  });

  it(
    'the private key lives only in the guest: on the host only its disk holds it, and a non-root user finds it nowhere',
    async () => {
      const privateKey = await fleetOkInHost(['ssh', A, '--', 'cat', '/var/ssh/ssh_host_ed25519_key']);
      expect(privateKey).toContain('PRIVATE KEY');
      // The key's body in base64, 64 characters (48 bytes) a line: the fourth line holds most of the secret seed
      // (bytes 161-192 of an ed25519 key), unlike the public key, which is everywhere.
      const secret = privateKey
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => /^[A-Za-z0-9+/=]{60,}$/.test(l))[3] as string;
      expect(secret).toBeDefined();
      // As root: the state dir holds it in A's disk only (the guest's own copy, 0600).
      const rootSees = grepFiles('root', secret, [dir, '/var/log/libvirt', '/run/libvirt']);
      expect(rootSees).toEqual([join(stateDir, `agent-${A}.qcow2`)]);
      // As nobody: nothing anywhere fleet, libvirt or QEMU write, nor any process's command line or environment.
      const control = mkdtempSync(join(tmpdir(), 'net-control-'));
      try {
        chmodSync(control, 0o755);
        writeFileSync(join(control, 'planted'), `${secret}\n`, { mode: 0o644 });
        const procs = readdirSync('/proc')
          .filter((p) => /^\d+$/.test(p))
          .flatMap((p) => [`/proc/${p}/cmdline`, `/proc/${p}/environ`]);
        const nobodySees = grepFiles('nobody', secret, [
          control,
          dir,
          '/var/log/libvirt',
          '/run/libvirt',
          '/var/lib/libvirt/qemu',
          '/etc/libvirt',
          ...procs,
        ]);
        // The planted copy shows the search works as nobody; it is the only hit.
        expect(nobodySees).toEqual([join(control, 'planted')]);
      } finally {
        rmSync(control, { recursive: true, force: true });
      }
    },
    VM_TIMEOUT,
  );

  it(
    "down leaves no passt behind; with networkFirewall: off A comes back with passt as fleet's user, and the residual answers",
    async () => {
      await fleetOkInHost(['down', A]);
      expect(passtUser(A)).toBe('');
      // B's confined passt still runs: the fleet's table stays.
      expect(nftTables()).toMatch(/agentfleet_/);
      writeFileSync(join(dir, 'agents', 'fleet.yaml'), fleetYaml(['networkFirewall: off']));
      await fleetOkInHost(['up', '--no-provision', A]);
      expect(passtUser(A)).toBe('root');
      const results = await probeFromA({
        outside: `${OUT_IP} ${OUTSIDE_PORT}`,
        ...firewalled,
        'slirp4-nslo': `10.0.2.2 ${NS_LOOPBACK_PORT}`,
      });
      expect(results.outside).toContain('OUTSIDE-WORLD');
      // The same probes the firewall refused above: so it was the firewall that refused them.
      const seen = JSON.stringify(results);
      expect(results['fw-hostany'], seen).toContain('LEAK-host-any');
      expect(results['fw-lan'], seen).toContain('LEAK-lan');
      expect(results['fw-metadata'], seen).toContain('LEAK-metadata');
      expect(results['slirp4-nslo']).not.toMatch(/LEAK/);
    },
    VM_TIMEOUT,
  );

  it(
    'a later boot of A (restarted just above) presents the same pinned key from its own disk: neither its QEMU nor its live XML names the key file',
    async () => {
      const pid = readFileSync(`/run/libvirt/qemu/agent-${A}.pid`, 'utf8').trim();
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      expect(cmdline).toContain(stateDir);
      expect(cmdline).not.toContain('hostkeys');
      expect(cmdline).not.toContain('ssh_host_ed25519_key');
      expect(virsh('dumpxml', `agent-${A}`)).not.toContain('hostkeys');
      // The console log is appended: the first boot took the key from fw_cfg, the second from its disk.
      const serial = readFileSync(join(stateDir, `agent-${A}.console.log`), 'utf8');
      expect(hostKeyLines(serial)).toEqual([`(fw_cfg) ${firstPin[A]}`, `(disk) ${firstPin[A]}`]);
      // `up` waited for SSH pinned to it (else it would have failed), and the pin did not move.
      expect(pinnedKey(A)).toBe(firstPin[A]);
      const presented = await fleetOkInHost(['ssh', A, '--', 'cat', '/var/ssh/ssh_host_ed25519_key.pub']);
      expect(presented.trim().startsWith(`${firstPin[A]} `)).toBe(true);
    },
    VM_TIMEOUT,
  );

  it(
    'network: none: fleet still reaches A over SSH; from inside A nothing answers, not the host loopback nor an attached network',
    async () => {
      await fleetOkInHost(['down', A]);
      writeAgent(A, 'network: none\n');
      // QEMU's hostfwd listens in the namespace libvirtd runs QEMU in: the machine's own.
      await fleetOkIn(null, ['up', '--no-provision', A]);
      expect(passtUser(A)).toBe('');
      expect(virsh('dumpxml', `agent-${A}`)).toContain('restrict=on');
      const results = await probeFromA(
        {
          'none-world': `${NONE_WORLD_IP} ${OUTSIDE_PORT}`,
          'none-slirp4-machinelo': `10.0.2.2 ${MACHINE_LOOPBACK_PORT}`,
          'none-slirp6-machinelo': `fec0::2 ${MACHINE_LOOPBACK_PORT}`,
        },
        null,
      );
      // Only addresses of this machine and of the namespace the test attached: were restrict=on
      // broken, nothing could leave the machine (the outside world of the cases above is routed
      // from fleet's namespace only).
      expect(Object.keys(results)).toHaveLength(3);
      for (const [name, got] of Object.entries(results)) expect(got, name).not.toMatch(/LEAK/);
    },
    VM_TIMEOUT,
  );

  it(
    "destroy of the fleet's last agents removes its nftables table and every passt",
    async () => {
      await fleetOkInHost(['destroy', '--purge', '--yes', A, B]);
      expect(passtUser(A)).toBe('');
      expect(passtUser(B)).toBe('');
      expect(nftTables()).not.toMatch(/agentfleet_/);
    },
    VM_TIMEOUT,
  );
});
