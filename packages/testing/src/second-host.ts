// A second libvirt host on this machine (DESIGN.md "A second libvirt host on one machine"): a network namespace
// reached over a veth pair, with its own sshd and a libvirtd whose runtime, state, cache, log and config
// directories are private mounts. Its default route leads only to a "world" namespace of its own (passt, which an
// isolated agent's runs on the host, needs a routable interface), which routes nowhere; 10.0.2.2 blackholed outside.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type PrivateLibvirtd, startPrivateLibvirtd } from './private-libvirtd.js';
import { sshdConfig } from './sshd.js';

export interface SecondHost {
  netns: string;
  address: string;
  /**
   * The host's default route leads into this namespace (no route onward): the "outside world" its guests may reach
   * through passt, at `address` (TEST-NET-2: public-looking, so networkFirewall lets it through).
   */
  world: { netns: string; address: string };
  /**
   * libvirt URI of the host: the libssh2 transport (it takes a known_hosts of its own; `fleet up` over the libssh
   * transport crashed in libvirt 9.0 here, SIGSEGV) with the test key.
   */
  uri: string;
  keyPath: string;
  knownHosts: string;
  dir: string;
  /** Every pid it started (sshd, virtlogd, libvirtd and their children are killed by pid). */
  pids(): number[];
  /** Restarts the host's libvirtd. */
  restartLibvirtd: PrivateLibvirtd['restart'];
  /** Kills the daemons, their children and the QEMU of each named domain (libvirt detaches those), by pid. */
  stop(domains?: readonly string[]): void;
}

const sh = (cmd: string, args: string[]) =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/**
 * Starts the host. `subnet` is the /30's first three octets plus the base of the last (e.g. `10.216.7.0`): the
 * machine side takes .1, the host .2. `tag` names the namespace and veths (`mh-<tag>`, at most 8 characters).
 */
export function startSecondHost(opts: {
  tag: string;
  subnet: string;
  dirPrefix: string;
  /** Paths of this machine the host must not see (an empty tmpfs there), e.g. the fleet's state dir. */
  hide?: readonly string[];
}): SecondHost {
  const netns = `mh-${opts.tag}`;
  const outer = `mh${opts.tag}a`;
  const inner = `mh${opts.tag}b`;
  const base = opts.subnet.split('.').map(Number);
  const ip = (last: number) => [...base.slice(0, 3), (base[3] ?? 0) + last].join('.');
  const address = ip(2);
  const dir = mkdtempSync(path.join(tmpdir(), opts.dirPrefix));
  let blackholed = false;
  let daemons: PrivateLibvirtd | undefined;
  const cleanups: (() => void)[] = [];
  const stop = (domains: readonly string[] = []) => {
    daemons?.stop(domains);
    for (const c of cleanups.reverse()) {
      try {
        c();
      } catch {}
    }
    if (blackholed) spawnSync('ip', ['route', 'del', 'blackhole', '10.0.2.2/32']);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    sh('ip', ['netns', 'add', netns]);
    cleanups.push(() => sh('ip', ['netns', 'del', netns]));
    sh('ip', ['link', 'add', outer, 'type', 'veth', 'peer', 'name', inner]);
    cleanups.push(() => spawnSync('ip', ['link', 'del', outer]));
    sh('ip', ['link', 'set', inner, 'netns', netns]);
    sh('ip', ['addr', 'add', `${ip(1)}/30`, 'dev', outer]);
    sh('ip', ['link', 'set', outer, 'up']);
    const inNs = (...args: string[]) => sh('ip', ['netns', 'exec', netns, ...args]);
    inNs('ip', 'addr', 'add', `${address}/30`, 'dev', inner);
    inNs('ip', 'link', 'set', inner, 'up');
    inNs('ip', 'link', 'set', 'lo', 'up');
    const world = { netns: `${netns}w`, address: '198.51.100.1' };
    sh('ip', ['netns', 'add', world.netns]);
    cleanups.push(() => sh('ip', ['netns', 'del', world.netns]));
    inNs('ip', 'link', 'add', `mh${opts.tag}w`, 'type', 'veth', 'peer', 'name', `mh${opts.tag}x`);
    inNs('ip', 'link', 'set', `mh${opts.tag}x`, 'netns', world.netns);
    inNs('ip', 'addr', 'add', `${ip(5)}/30`, 'dev', `mh${opts.tag}w`);
    inNs('ip', 'link', 'set', `mh${opts.tag}w`, 'up');
    inNs('ip', 'route', 'add', 'default', 'via', ip(6));
    for (const args of [
      ['addr', 'add', `${ip(6)}/30`, 'dev', `mh${opts.tag}x`],
      ['addr', 'add', `${world.address}/32`, 'dev', 'lo'],
      ['link', 'set', `mh${opts.tag}x`, 'up'],
      ['link', 'set', 'lo', 'up'],
    ])
      sh('ip', ['netns', 'exec', world.netns, 'ip', ...args]);
    // A guest's slirp gateway is the host's loopback: nothing it sends may leave this machine during the test.
    blackholed = spawnSync('ip', ['route', 'add', 'blackhole', '10.0.2.2/32']).status === 0;

    // Keys: the client's (authorized for root in the namespace's sshd) and the host's, pinned in a known_hosts.
    const keyPath = path.join(dir, 'id_ed25519');
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyPath]);
    const hostKey = path.join(dir, 'host_ed25519');
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
    const knownHosts = path.join(dir, 'known_hosts');
    const hostPub = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
    writeFileSync(knownHosts, `${address} ${hostPub}\n`);
    writeFileSync(path.join(dir, 'authorized_keys'), readFileSync(`${keyPath}.pub`));
    writeFileSync(
      path.join(dir, 'sshd_config'),
      sshdConfig({
        listen: [`ListenAddress ${address}`],
        hostKeys: [hostKey],
        dir,
        // As Debian's sshd_config has it: fleet puts files on a host over SFTP (a pre-generated host key).
        extra: ['AllowTcpForwarding yes', 'Subsystem sftp internal-sftp'],
      }),
    );
    daemons = startPrivateLibvirtd({
      dir,
      netns,
      ...(opts.hide && { hide: opts.hide }),
      extra: ['mkdir -p /run/sshd', `/usr/sbin/sshd -f ${path.join(dir, 'sshd_config')}`],
    });
    const uri = `qemu+libssh2://root@${address}/system?keyfile=${keyPath}&known_hosts=${knownHosts}`;
    // libvirtd answers once its socket exists: wait for it through the transport fleet will use.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const v = spawnSync('virsh', ['-c', uri, 'version'], { encoding: 'utf8' });
      if (v.status === 0) break;
      if (Date.now() > deadline) throw new Error(`libvirtd on ${address} does not answer: ${v.stderr}`);
      spawnSync('sleep', ['0.3']);
    }
    const pids = () => daemons?.pids() ?? [];
    return {
      netns,
      address,
      world,
      uri,
      keyPath,
      knownHosts,
      dir,
      pids,
      stop,
      restartLibvirtd: (o) => (daemons as PrivateLibvirtd).restart(o),
    };
  } catch (err) {
    stop();
    throw err;
  }
}
