// A libvirtd of a test's own (DESIGN.md "Running libvirtd without systemd", "A second libvirt host on one machine"):
// virtlogd + libvirtd in a private mount namespace whose runtime, state, cache, log and config directories are its
// own, so stopping or restarting it never touches the shared qemu:///system daemon or another test's domains. Its
// runtime directory is a directory of the test's, bind-mounted: the daemon's socket is reachable from outside the
// namespace too, as `qemu+unix:///system?socket=...` (a local URI to fleet).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { processAlive } from '@agentfleet/engine/adapters/stale-temps';

export interface PrivateLibvirtd {
  /** The daemon's socket as a libvirt URI (reachable from any network namespace: it is a file). */
  uri: string;
  /** Resolves once the daemon answers on its socket. */
  ready(): Promise<void>;
  /** The daemons' pids and every process whose parent is one of them. */
  pids(): number[];
  /** libvirtd's pid now (a restart changes it). */
  libvirtdPid(): number | undefined;
  /**
   * Stops libvirtd with SIGTERM, as an operator's restart does (running domains keep running, every connection
   * sees EOF), keeps it down for `downMs` and until `until` settles, starts it again in the same namespaces and
   * waits until it answers. Resolves with when (Date.now()) it was gone and when it answered again.
   */
  restart(opts?: { downMs?: number; until?: Promise<unknown> }): Promise<{ downAt: number; upAt: number }>;
  /** Kills the daemons, their children and the QEMU of each named domain (libvirt detaches those), by pid. */
  stop(domains?: readonly string[]): void;
}

/**
 * Starts the daemons with their files in `dir` (made and removed by the caller). `netns`: in that network
 * namespace; `extra`: shell commands run in their mount namespace once they started (e.g. an sshd).
 */
export function startPrivateLibvirtd(opts: {
  dir: string;
  netns?: string;
  extra?: string[];
  /** Paths of this machine its daemons must not see (an empty tmpfs over each), e.g. a fleet's state dir. */
  hide?: readonly string[];
}): PrivateLibvirtd {
  const { dir } = opts;
  const runDir = path.join(dir, 'run');
  mkdirSync(runDir, { recursive: true, mode: 0o755 });
  const uri = `qemu+unix:///system?socket=${path.join(runDir, 'libvirt-sock')}`;
  const pidFile = (name: string) => path.join(dir, `${name}.pid`);
  // Its own libvirt config: no domains or networks of this machine, no cgroup controllers (no systemd here).
  const etc = path.join(dir, 'etc-libvirt');
  cpSync('/etc/libvirt', etc, { recursive: true });
  // No domains or storage pools of this machine.
  rmSync(path.join(etc, 'qemu'), { recursive: true, force: true });
  rmSync(path.join(etc, 'storage'), { recursive: true, force: true });
  const qemuConf = path.join(etc, 'qemu.conf');
  writeFileSync(
    qemuConf,
    `${existsSync(qemuConf) ? readFileSync(qemuConf, 'utf8') : ''}\ncgroup_controllers = [ ]\n`,
  );
  const libvirtd = `libvirtd -d -p ${pidFile('libvirtd')}`;
  const script = [
    'set -e',
    ...['/var/lib/libvirt', '/var/cache/libvirt', '/var/log/libvirt'].map(
      (d) => `mount -t tmpfs -o mode=0755 tmpfs ${d}`,
    ),
    `mount --bind ${runDir} /run/libvirt`,
    `mount --bind ${etc} /etc/libvirt`,
    ...(opts.hide ?? []).map((p) => `mount -t tmpfs -o mode=0700 tmpfs '${p}'`),
    'mkdir -p /var/lib/libvirt/qemu /var/cache/libvirt/qemu /var/log/libvirt/qemu /run/libvirt/qemu',
    `virtlogd -d -p ${pidFile('virtlogd')}`,
    libvirtd,
    ...(opts.extra ?? []),
  ].join('\n');
  const inNetns = opts.netns ? ['ip', 'netns', 'exec', opts.netns] : [];
  const [cmd, ...args] = [...inNetns, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', script];
  const stop = (domains: readonly string[] = []) => {
    for (const pid of [...qemuPids(domains), ...pidsOf(dir)]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
  };
  const r = spawnSync(cmd as string, args, { encoding: 'utf8' });
  if (r.status !== 0) {
    stop();
    throw new Error(`private libvirtd did not start: ${r.stderr}`);
  }
  const ready = async () => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const v = spawnSync('virsh', ['-c', uri, 'version'], { encoding: 'utf8' });
      if (v.status === 0) return;
      if (Date.now() > deadline) throw new Error(`private libvirtd (${uri}) does not answer: ${v.stderr}`);
      await new Promise((res) => setTimeout(res, 200));
    }
  };
  const restart = async ({ downMs = 0, until }: { downMs?: number; until?: Promise<unknown> } = {}) => {
    const pid = readPid(pidFile('libvirtd'));
    if (pid === undefined) throw new Error(`no libvirtd pid in ${pidFile('libvirtd')}`);
    process.kill(pid, 'SIGTERM');
    while (processAlive(pid)) await new Promise((res) => setTimeout(res, 20));
    const downAt = Date.now();
    await Promise.all([new Promise((res) => setTimeout(res, downMs)), until?.catch(() => undefined)]);
    // virtlogd stays up: entering its namespaces is entering the daemon's.
    const anchor = readPid(pidFile('virtlogd'));
    if (anchor === undefined) throw new Error(`no virtlogd pid in ${pidFile('virtlogd')}`);
    execFileSync('nsenter', ['-t', String(anchor), '-m', '-n', 'sh', '-c', libvirtd], { stdio: 'ignore' });
    await ready();
    return { downAt, upAt: Date.now() };
  };
  return {
    uri,
    ready,
    pids: () => pidsOf(dir),
    libvirtdPid: () => readPid(pidFile('libvirtd')),
    restart,
    stop,
  };
}

function readPid(file: string): number | undefined {
  const n = existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : Number.NaN;
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** QEMU processes of the named domains (`-name guest=<domain>,...`), found by their exact argument. */
function qemuPids(domains: readonly string[]): number[] {
  const ps = spawnSync('ps', ['-e', '-o', 'pid=,args='], { encoding: 'utf8' }).stdout;
  return ps.split('\n').flatMap((line) => {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (!m?.[2]) return [];
    const args = m[2];
    return domains.some((d) => args.includes(` guest=${d},`)) ? [Number(m[1])] : [];
  });
}

/** The daemons' pids (sshd, virtlogd, libvirtd pid files in `dir`) plus every process whose parent is one of them. */
function pidsOf(dir: string): number[] {
  const roots = ['sshd', 'virtlogd', 'libvirtd'].flatMap((f) => readPid(path.join(dir, `${f}.pid`)) ?? []);
  const out = new Set(roots);
  const children = spawnSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' }).stdout;
  let grew = true;
  while (grew) {
    grew = false;
    for (const line of children.split('\n')) {
      const [pid, ppid] = line.trim().split(/\s+/).map(Number);
      if (pid !== undefined && ppid !== undefined && out.has(ppid) && !out.has(pid)) {
        out.add(pid);
        grew = true;
      }
    }
  }
  return [...out];
}
