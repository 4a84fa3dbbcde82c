// `fleet doctor`: everything a fleet needs from this machine, checked before a bring-up fails on it.
import { constants } from 'node:fs';
import { access, open, readdir, stat, statfs } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { type Fleet, formatBytes, type Hypervisor, type PortRange } from '@agentfleet/core';
import { MissingBaseImageError } from './adapters/disks.js';
import type { TcpListener } from './adapters/listeners.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

/** One line of the report: what was checked, what was found, and what to do when it is not ok. */
export interface DoctorCheck {
  check: string;
  status: CheckStatus;
  detail: string;
  remedy?: string;
}

export interface DoctorInput {
  fleet: Fleet;
  fleetDir: string;
  stateDir: string;
  baseImage: string;
  /** The private key fleet logs in with (fleet.yaml ssh.identityFile, expanded). */
  identityFile: string;
  /** Ports the fleet's own ledger already holds: listening on them is the fleet's own doing. */
  allocatedPorts: ReadonlySet<number>;
}

export interface DoctorDeps {
  connect(uri: string): Promise<Hypervisor>;
  /** The search path programs are looked up in (process.env.PATH). */
  path: string;
  listeners(): Promise<TcpListener[]>;
}

// An overlay disk starts at a few hundred KiB, but a first rebuild writes GiBs into it.
const DISK_WARN_BYTES = 10 * 2 ** 30;
const DISK_FAIL_BYTES = 2 * 2 ** 30;
const QCOW2_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]);

/** Runs every check; independent ones at once. The order of the result is the report's order. */
export async function runDoctor(input: DoctorInput, deps: DoctorDeps): Promise<DoctorCheck[]> {
  const { fleet } = input;
  const uris = [
    ...new Set(
      fleet.agents.map((a) => a.libvirtUri).concat(fleet.agents.length ? [] : [fleet.config.libvirtUri]),
    ),
  ];
  const isolated = fleet.agents.some((a) => a.network === 'isolated');
  const tool = (name: string, status: CheckStatus, why: string, remedy: string) =>
    toolCheck(deps.path, name, status, why, remedy);
  const groups = await Promise.all([
    Promise.all(uris.map((uri) => hostChecks(uri, fleet, deps))).then((g) => g.flat()),
    Promise.all([
      tool(
        'passt',
        isolated ? 'fail' : 'warn',
        'isolated agents get their network from passt',
        'apt-get install passt',
      ),
      tool('qemu-img', 'fail', 'agent disks are made with it', 'apt-get install qemu-utils'),
      tool('git', 'fail', 'the flake is uploaded to agents with it', 'apt-get install git'),
      tool(
        'nix-instantiate',
        'warn',
        'secrets.nix is read with it (secrets commands, rekey)',
        'apt-get install nix-bin',
      ),
      tool('nix', 'warn', 'host builds (building agent systems here) need it', 'apt-get install nix-bin'),
      tool('age', 'warn', '`fleet secrets edit` decrypts with it', 'apt-get install age'),
      tool('remote-viewer', 'warn', '`fleet spice` opens displays with it', 'apt-get install virt-viewer'),
    ]),
    virtiofsdCheck(fleet),
    adminIdentityChecks(input),
    baseImageCheck(input.baseImage),
    portChecks(input, deps),
    diskSpaceCheck(input.stateDir),
  ]);
  return groups.flat();
}

/** The libvirt connection per URI the fleet uses, and whether KVM works there (the same probe `up` uses). */
async function hostChecks(uri: string, fleet: Fleet, deps: DoctorDeps): Promise<DoctorCheck[]> {
  let hv: Hypervisor;
  try {
    hv = await deps.connect(uri);
  } catch (err) {
    return [
      {
        check: `libvirt ${uri}`,
        status: 'fail',
        detail: `cannot connect: ${(err as Error).message}`,
        remedy: 'start libvirtd (systemctl start libvirtd, or scripts/libvirtd-up.sh without systemd)',
      },
    ];
  }
  const facts = await hv.facts();
  const wanted = fleet.config.domainType;
  return [
    { check: `libvirt ${uri}`, status: 'ok', detail: `libvirt ${facts.libVersion} on ${facts.hostname}` },
    facts.kvmUsable
      ? { check: `kvm ${uri}`, status: 'ok', detail: 'KVM runs guests' }
      : {
          check: `kvm ${uri}`,
          status: wanted === 'kvm' ? 'fail' : 'warn',
          detail:
            wanted === 'kvm'
              ? 'fleet.yaml says domainType: kvm, but KVM does not run guests here'
              : 'KVM does not run guests here: agents use TCG (several times slower)',
          remedy:
            wanted === 'kvm'
              ? 'set domainType: auto (or qemu) in agents/fleet.yaml, or enable KVM (modprobe kvm_intel|kvm_amd)'
              : 'enable KVM on this host (modprobe kvm_intel|kvm_amd; nested virtualization for a VM)',
        },
  ];
}

/** The first executable `name` on `path`, if any (what a shell would run). */
export async function findProgram(path: string, name: string): Promise<string | undefined> {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const file = join(dir, name);
    const ok = await access(file, constants.X_OK)
      .then(() => stat(file))
      .then((s) => s.isFile())
      .catch(() => false);
    if (ok) return file;
  }
  return undefined;
}

async function toolCheck(
  path: string,
  name: string,
  missing: CheckStatus,
  why: string,
  remedy: string,
): Promise<DoctorCheck> {
  const found = await findProgram(path, name);
  return found
    ? { check: name, status: 'ok', detail: found }
    : { check: name, status: missing, detail: `not found on PATH: ${why}`, remedy };
}

/** Where libvirt and fleet's read-only wrapper (libexec/virtiofsd-readonly) look for virtiofsd, in this order. */
export const VIRTIOFSD_DIRS = ['/usr/libexec', '/usr/lib/qemu'];

/** virtiofsd, when an agent has shares: libvirt runs it for every share (no check for fleets without any). */
export async function virtiofsdCheck(fleet: Fleet, dirs = VIRTIOFSD_DIRS): Promise<DoctorCheck[]> {
  if (!fleet.agents.some((a) => a.shares.length > 0)) return [];
  const found = await findProgram(dirs.join(delimiter), 'virtiofsd');
  return [
    found
      ? { check: 'virtiofsd', status: 'ok', detail: found }
      : {
          check: 'virtiofsd',
          status: 'fail',
          detail: `not in ${dirs.join(' or ')}: agents with shares need it`,
          remedy: 'apt-get install qemu-system-common (Debian 12), or the virtiofsd package on newer systems',
        },
  ];
}

/** The key fleet logs in with, and an admin public key so secrets have someone to decrypt them. */
async function adminIdentityChecks(input: DoctorInput): Promise<DoctorCheck[]> {
  const key = await stat(input.identityFile).catch(() => undefined);
  const identity: DoctorCheck = key?.isFile()
    ? { check: 'admin identity', status: 'ok', detail: input.identityFile }
    : {
        check: 'admin identity',
        status: 'fail',
        detail: `no private key at ${input.identityFile} (ssh.identityFile in agents/fleet.yaml)`,
        remedy: `ssh-keygen -t ed25519 -f ${input.identityFile}, or point ssh.identityFile at your key`,
      };
  const adminsDir = join(input.fleetDir, 'secrets', 'admins');
  const admins = await readdir(adminsDir)
    .then((files) => files.filter((f) => f.endsWith('.pub')))
    .catch(() => [] as string[]);
  const recipients: DoctorCheck =
    admins.length > 0
      ? { check: 'admin recipients', status: 'ok', detail: `secrets/admins: ${admins.join(', ')}` }
      : {
          check: 'admin recipients',
          status: 'warn',
          detail: 'no public key in secrets/admins/: secrets cannot be encrypted for anyone',
          remedy: 'cp ~/.ssh/id_ed25519.pub secrets/admins/$USER.pub',
        };
  return [identity, recipients];
}

/** The image every disk starts from: there, a regular file, and qcow2 (by its header magic). */
async function baseImageCheck(path: string): Promise<DoctorCheck> {
  // One wording for the missing image, wherever a user meets it.
  const remedy = new MissingBaseImageError(path).remedy;
  const s = await stat(path).catch(() => undefined);
  if (!s) return { check: 'base image', status: 'fail', detail: `${path} does not exist`, remedy };
  if (!s.isFile())
    return { check: 'base image', status: 'fail', detail: `${path} is not a regular file`, remedy };
  const head = Buffer.alloc(4);
  const fh = await open(path, 'r');
  try {
    await fh.read(head, 0, 4, 0);
  } finally {
    await fh.close();
  }
  if (!head.equals(QCOW2_MAGIC))
    return { check: 'base image', status: 'fail', detail: `${path} is not a qcow2 image`, remedy };
  return { check: 'base image', status: 'ok', detail: `${path} (qcow2, ${formatBytes(s.size)})` };
}

/** Ports left in the SSH and SPICE ranges for agents the ledger has not placed yet. */
async function portChecks(input: DoctorInput, deps: DoctorDeps): Promise<DoctorCheck[]> {
  const busy = new Set((await deps.listeners()).map((l) => l.port));
  const { sshPorts, spicePorts } = input.fleet.config;
  return [
    rangeCheck('ssh ports', 'sshPorts', sshPorts, busy, input),
    rangeCheck('spice ports', 'spicePorts', spicePorts, busy, input),
  ];
}

function rangeCheck(
  check: string,
  field: string,
  range: PortRange,
  busy: ReadonlySet<number>,
  input: DoctorInput,
): DoctorCheck {
  let free = 0;
  for (let p = range.start; p <= range.end; p++) if (!busy.has(p) && !input.allocatedPorts.has(p)) free++;
  const detail = `${free} of ${range.end - range.start + 1} free in ${range.start}-${range.end}`;
  if (free > 0) return { check, status: 'ok', detail };
  return {
    check,
    status: 'warn',
    detail: `${detail}: a new agent cannot get one`,
    remedy: `widen ${field} in agents/fleet.yaml, or stop what listens there`,
  };
}

/** Free space where the disks go (the state dir, or the nearest parent that exists yet). */
async function diskSpaceCheck(stateDir: string): Promise<DoctorCheck> {
  let dir = stateDir;
  let fs = await statfs(dir).catch(() => undefined);
  while (!fs && dirname(dir) !== dir) {
    dir = dirname(dir);
    fs = await statfs(dir).catch(() => undefined);
  }
  if (!fs) return { check: 'disk space', status: 'warn', detail: `cannot read free space at ${stateDir}` };
  const free = fs.bavail * fs.bsize;
  const detail = `${formatBytes(free)} free at ${dir}`;
  if (free >= DISK_WARN_BYTES) return { check: 'disk space', status: 'ok', detail };
  return {
    check: 'disk space',
    status: free < DISK_FAIL_BYTES ? 'fail' : 'warn',
    detail: `${detail}: agents' rebuilds need several GiB each`,
    remedy: 'free space there, or point stateDir in agents/fleet.yaml at a larger disk',
  };
}
