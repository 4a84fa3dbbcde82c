// Shared folders (agent YAML `shares:`): pure rules on what may be mounted where, and what the guest is told.
// The host side (does the directory exist, what it really is after symlinks) is gathered by the CLI and judged by
// shareSourceProblem here.
import type { AgentShare, AgentSpec } from './model.js';
import type { RuleProblem } from './rules.js';
import { isLocalUri } from './ssh/host-ssh.js';

/** virtiofs tags are at most 36 bytes (the virtio-fs config space). */
const TAG_MAX = 36;

/** The last part of the mount point, as a tag: `/mnt/host-projects` -> `host-projects`. */
export function defaultShareTag(target: string): string {
  const last = target.split('/').filter(Boolean).pop() ?? '';
  return last.replace(/^[._-]+/, '').slice(0, TAG_MAX) || 'share';
}

/**
 * Guest directories a share must not cover: mounting over them hides what NixOS boots and runs from. Below
 * them is refused too; only `/`, `/home`, `/root`, `/var` and `/tmp` themselves (below them is fine, e.g.
 * /var/www, /home/drago/projects).
 */
const GUEST_SYSTEM_TREES = [
  '/nix',
  '/boot',
  '/etc',
  '/proc',
  '/sys',
  '/dev',
  '/run',
  '/usr',
  '/bin',
  '/sbin',
];
const GUEST_SYSTEM_DIRS = ['/', '/home', '/root', '/var', '/tmp', '/lib', '/lib64'];

/** Is `path` equal to `dir` or inside it (both absolute and normalized)? */
function isWithin(path: string, dir: string): boolean {
  return path === dir || dir === '/' || path.startsWith(`${dir}/`);
}

function targetProblem(target: string, user: string): string | undefined {
  if (target !== '/' && (target.endsWith('/') || /\/\/|\/\.\.?(\/|$)/.test(target)))
    return `mount point '${target}' is not normalized: write it without '.', '..', '//' or a trailing '/'`;
  const tree = GUEST_SYSTEM_TREES.find((d) => isWithin(target, d));
  if (tree !== undefined)
    return `mount point '${target}' would hide the guest's ${tree}: mount shares elsewhere, e.g. /mnt/NAME`;
  if (GUEST_SYSTEM_DIRS.includes(target) || target === `/home/${user}`)
    return `mount point '${target}' would hide everything in it: mount the share below it, e.g. ${target.replace(/\/$/, '')}/projects`;
  return undefined;
}

/**
 * libvirt runs virtiofsd as root when it starts the domain (QEMU 7.2's virtiofsd needs root, and so does the
 * read-only bind mount fleet wraps it in): only the system libvirt on this machine can, never a session or a remote
 * host (whose paths fleet cannot check either).
 */
export function sharesNeedLocalSystem(uri: string): boolean {
  return /^qemu:\/\/\/system(\?.*)?$/.test(uri);
}

/** Per-agent rules on `shares:` (the host-side checks of each source happen where the filesystem is). */
export function shareProblems(a: AgentSpec): RuleProblem[] {
  if (a.shares.length === 0) return [];
  const problems: RuleProblem[] = [];
  if (!sharesNeedLocalSystem(a.libvirtUri)) {
    problems.push({
      path: 'shares',
      message: isLocalUri(a.libvirtUri)
        ? `shares use virtiofs, which libvirt starts as root on this machine: the agent's libvirt URI must be ` +
          `qemu:///system, not ${a.libvirtUri} (set libvirtUri: qemu:///system, or remove shares)`
        : // Not built: a source there could not be resolved, checked against what must never be shared, or
          // protected by the read-only wrapper, all of which happen here.
          `shares are directories of this machine (fleet resolves and checks each source here and serves it ` +
          `through virtiofsd with a read-only wrapper installed here), but this agent runs on ${a.libvirtUri}, ` +
          `where a source would be a path on that host that fleet can neither check nor protect: keep the agent ` +
          `on this machine (a local host:, or libvirtUri: qemu:///system), or remove shares`,
    });
  }
  a.shares.forEach((s, i) => {
    if (s.source.includes(','))
      problems.push({
        path: `shares.${i}.source`,
        message: `'${s.source}' has a ',' (virtiofsd's option separator): rename the directory or share a parent`,
      });
    const target = targetProblem(s.target, a.user);
    if (target) problems.push({ path: `shares.${i}.target`, message: target });
    const earlier = a.shares.findIndex((o) => o.target === s.target);
    if (earlier < i)
      problems.push({
        path: `shares.${i}.target`,
        message: `'${s.target}' is also the target of shares.${earlier}`,
      });
    const sameTag = a.shares.findIndex((o) => o.tag === s.tag);
    if (sameTag < i)
      problems.push({
        path: `shares.${i}`,
        message: `tag '${s.tag}' is also the tag of shares.${sameTag}: give one of them a tag of its own (tag: NAME)`,
      });
  });
  return problems;
}

/** A host path a share must neither be, contain, nor lie inside, and why. */
export interface GuardedPath {
  path: string;
  what: string;
}

/**
 * Why the host directory `real` (absolute, symlinks resolved) must not be shared, or undefined. Refused: the root,
 * anything that is, holds or lies inside a guarded path (the fleet's state dir with every agent's disk and host key,
 * the admin and SSH keys, the host's /etc, other VMs' storage), so a guest never reads a key or another agent's disk.
 */
export function shareSourceProblem(real: string, guarded: readonly GuardedPath[]): string | undefined {
  if (real === '/') return "'/' holds every key and disk on the host: share a project directory";
  for (const g of guarded) {
    if (isWithin(g.path, real))
      return `${real} contains ${g.what} (${g.path}): share a directory that does not, e.g. a project directory`;
    if (isWithin(real, g.path)) return `${real} is inside ${g.what} (${g.path}): it must never reach a guest`;
  }
  return undefined;
}

/**
 * What the guest is told in fw_cfg (opt/agentfleet/shares): `TAG:MOUNTPOINT:ro|rw` separated by spaces. NixOS
 * mounts from its own configuration (hosts/common/shares.nix); guests without one (the test image) from this.
 */
export function sharesAnnouncement(
  shares: readonly Pick<AgentShare, 'tag' | 'target' | 'readOnly'>[],
): string {
  return shares.map((s) => `${s.tag}:${s.target}:${s.readOnly ? 'ro' : 'rw'}`).join(' ');
}
