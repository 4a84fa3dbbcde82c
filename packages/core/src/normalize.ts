// Defaults live here, in one place, applied to already schema-valid input.
import { hostOfUri } from './hosts.js';
import { memoryMiB } from './memory.js';
import { type AgentSpec, DEFAULT_DOMAIN_PREFIX, type FleetConfig, type PortRange } from './model.js';
import type { AgentFile, FleetFile } from './schemas.js';
import { defaultShareTag } from './shares.js';

export const DEFAULT_LIBVIRT_URI = 'qemu:///session';
export const DEFAULT_STATE_DIR = '~/.agentvms';
export const DEFAULT_SSH_PORT_START = 2223;
export const DEFAULT_SPICE_PORT_START = 5900;
/** Ranges default to 100 ports: plenty of agents, few enough to scan cheaply. */
const DEFAULT_RANGE_SIZE = 100;
const DEFAULT_MEMORY_MIB = 4096;
const DEFAULT_VCPUS = 2;

function range(r: { start: number; end?: number } | undefined, start: number): PortRange {
  const s = r?.start ?? start;
  return { start: s, end: r?.end ?? Math.min(65535, s + DEFAULT_RANGE_SIZE - 1) };
}

export function normalizeFleet(f: FleetFile): FleetConfig {
  const stateDir = f.stateDir ?? DEFAULT_STATE_DIR;
  return {
    libvirtUri: f.libvirtUri ?? DEFAULT_LIBVIRT_URI,
    stateDir,
    baseImage: f.baseImage ?? `${stateDir.replace(/\/+$/, '')}/agent-base.qcow2`,
    flake: f.flake ?? '.',
    sshPorts: range(f.sshPorts, DEFAULT_SSH_PORT_START),
    spicePorts: range(f.spicePorts, DEFAULT_SPICE_PORT_START),
    reservedCores: f.reservedCores ?? [0],
    domainType: f.domainType ?? 'auto',
    portForward: f.portForward ?? 'auto',
    network: f.network ?? 'isolated',
    networkFirewall: f.networkFirewall ?? 'auto',
    // An overlay is made in milliseconds whatever the image size; a copy of a ~7 GB NixOS image costs seconds and
    // its size in disk space unless the filesystem clones. The base image's identity guards overlays (plan).
    diskMode: f.diskMode ?? 'overlay',
    ssh: {
      ...(f.ssh?.user !== undefined ? { user: f.ssh.user } : {}),
      identityFile: f.ssh?.identityFile ?? '~/.ssh/id_ed25519',
    },
    ...(f.adminIdentity !== undefined && { adminIdentity: f.adminIdentity }),
    domainPrefix: f.domainPrefix ?? DEFAULT_DOMAIN_PREFIX,
    hosts: Object.fromEntries(
      Object.entries(f.hosts ?? {}).map(([name, h]) => [
        name,
        { uri: h.uri, reservedCores: h.reservedCores ?? f.reservedCores ?? [0] },
      ]),
    ),
    unsafeLibvirtUris: f.unsafeLibvirtUris ?? [],
    provision: { build: f.provision?.build ?? 'guest' },
    bootTimeouts: {
      sshSeconds: f.bootTimeouts?.sshSeconds ?? 300,
      shutdownSeconds: f.bootTimeouts?.shutdownSeconds ?? 120,
    },
  };
}

/** Agent with defaults filled in; memory problems are reported by rules, so a bad size becomes NaN here. */
export function normalizeAgent(a: AgentFile, name: string, file: string, config: FleetConfig): AgentSpec {
  const mem = a.memory === undefined ? { mib: DEFAULT_MEMORY_MIB } : memoryMiB(a.memory);
  const email = a.git?.email ?? a.mail?.address ?? '';
  const spec: AgentSpec = {
    name,
    file,
    memoryMiB: 'mib' in mem ? mem.mib : Number.NaN,
    vcpus: a.vcpus ?? a.cores?.length ?? DEFAULT_VCPUS,
    shareCores: a.shareCores ?? false,
    user: a.user ?? name,
    git: { name: a.git?.name ?? name.charAt(0).toUpperCase() + name.slice(1), email },
    desktop: a.desktop ?? true,
    sudo: a.sudo ?? false,
    shellAliases: { ...a.shellAliases },
    secrets: a.secrets ?? [],
    libvirtUri:
      a.libvirtUri ?? (a.host !== undefined ? config.hosts[a.host]?.uri : undefined) ?? config.libvirtUri,
    placed: a.host === undefined && a.libvirtUri === undefined && Object.keys(config.hosts).length > 0,
    network: a.network ?? config.network,
    tags: [...new Set(a.tags ?? [])].sort(),
    autostart: a.autostart ?? false,
    shares: (a.shares ?? []).map((s) => ({
      source: s.source,
      target: s.target,
      tag: s.tag ?? defaultShareTag(s.target),
      readOnly: s.readOnly ?? true,
    })),
  };
  const host = hostOfUri(config, spec.libvirtUri);
  if (host !== undefined) spec.host = host;
  if (a.description !== undefined) spec.description = a.description;
  if (a.cores !== undefined) spec.cores = a.cores;
  if (a.ports?.ssh !== undefined) spec.sshPort = a.ports.ssh;
  if (a.ports?.spice !== undefined) spec.spicePort = a.ports.spice;
  if (a.mail !== undefined) spec.mail = structuredClone(a.mail);
  if (a.tailscale !== undefined) spec.tailscale = { ...a.tailscale };
  return spec;
}
