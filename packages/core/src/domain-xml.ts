import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { createXml as create } from './lazy-libs.js';
import type { Allocation } from './ledger.js';
import { type AgentSpec, type DomainType, domainName, type PortForward } from './model.js';
import { sharesAnnouncement } from './shares.js';
import { under, xmlElements } from './xml-dom.js';

/** Namespace of agentfleet's `<metadata>` child in a domain XML. */
export const AGENT_METADATA_NS = 'https://agentfleet.dev/xmlns/agent/1';
const QEMU_NS = 'http://libvirt.org/schemas/domain/qemu/1.0';
/** fw_cfg file names are at most 55 bytes; ours all live under this prefix. */
export const FWCFG_PREFIX = 'opt/agentfleet/';
const FWCFG_NAME_MAX = 55;
const GUEST_SSH_PORT = 22;

/** Who defined a domain: recorded in its metadata so fleets sharing a host never touch each other's. */
export interface FleetIdentity {
  /** The fleet's id (agents/ledger.yaml `fleetId`). */
  id: string;
  /** Absolute path of the fleet repository, to name the owner in messages. */
  dir: string;
  /** Absolute state dir of the fleet. */
  stateDir: string;
}
/** How the guest's one NIC is wired (see NetworkMode). */
export type DomainNetwork =
  /** QEMU joins the agent's own passt, which fleet starts with --no-map-gw, on this unix socket. */
  | { mode: 'isolated'; socketPath: string }
  /** QEMU user networking (host loopback reachable as the gateway); the forward as probed. */
  | { mode: 'open'; portForward: PortForward }
  /** QEMU user networking with restrict=on: the SSH forward works, the guest reaches nothing. */
  | { mode: 'none' };

export interface DomainXmlInput {
  agent: Pick<AgentSpec, 'name' | 'memoryMiB' | 'vcpus'>;
  /** libvirt domain name; `agent-<name>` when omitted. */
  domainName?: string;
  /** The fleet defining the domain; omitted only by callers that show XML without defining it. */
  fleet?: FleetIdentity;
  allocation: Allocation;
  domainType: DomainType;
  network: DomainNetwork;
  /**
   * Unix socket the SPICE server listens on, in a directory only fleet's user may enter: QEMU
   * opens no TCP port, so no guest (or other local user) can reach the display.
   */
  spiceSocket: string;
  /** Absolute path of the agent's qcow2. */
  diskPath: string;
  /** Absolute path the serial console is written to. */
  consoleLogPath: string;
  /** QEMU binary; libvirt picks its default when omitted. */
  emulator?: string;
  /**
   * fw_cfg entries, exposed in the guest as opt/agentfleet/<key>, each read by QEMU from the given
   * file: an inline value would be on QEMU's world-readable command line and in libvirt's log.
   */
  fwcfgFiles?: Record<string, string>;
  /** Host cores kept for the host (fleet.yaml reservedCores): QEMU's emulator threads go there; unpinned if none. */
  reservedCores?: readonly number[];
  /** Host directories shared over virtiofs (agent YAML shares, sources absolute and free of symlinks). */
  shares?: readonly DomainShare[];
  /**
   * What libvirt runs instead of virtiofsd for a read-only share (packages/engine/libexec/virtiofsd-readonly):
   * libvirt 9.0 refuses <readonly/> on virtiofs, so the host's read-only guarantee comes from this wrapper.
   */
  virtiofsdReadOnly?: string;
}

/** One virtiofs share in a domain. */
export interface DomainShare {
  source: string;
  tag: string;
  /** Guest mount point, announced in fw_cfg for guests that do not get it from their NixOS config. */
  target: string;
  readOnly: boolean;
}

export interface DomainMetadata {
  agent: string;
  specHash: string;
  /** Absent on domains defined before fleets had ids (and on hand-made imitations). */
  fleet?: { id: string; dir?: string; stateDir?: string };
}

/** Our `<metadata>` element as domainXml prints it (pretty-printed, one per document). */
const METADATA_ELEMENT = /^[ \t]*<metadata>[\s\S]*?<\/metadata>\n/m;

/**
 * Hex sha-256 of a domain XML as domainXml generated it, leaving out the metadata element that
 * carries the hash. It covers the generated text itself, so a change to the generator (not just
 * to its input) shows up as drift; generation is deterministic, so an unchanged fleet hashes alike.
 */
export function specHash(generatedXml: string): string {
  return bytesToHex(sha256(new TextEncoder().encode(generatedXml.replace(METADATA_ELEMENT, ''))));
}

/** Distinct cores in ascending order as a libvirt cpuset ("1,3"). */
function cpuset(cores: readonly number[]): string {
  return [...new Set(cores)].sort((a, b) => a - b).join(',');
}

/**
 * The libvirt domain XML of one agent. Throws on inputs only a caller bug can produce
 * (cores not matching vCPUs, bad fw_cfg keys); user input is validated long before.
 */
export function domainXml(input: DomainXmlInput): string {
  const { agent, allocation: alloc } = input;
  if (alloc.cores.length !== agent.vcpus) {
    throw new Error(
      `domainXml: agent ${agent.name} has ${agent.vcpus} vCPUs but ${alloc.cores.length} cores`,
    );
  }
  const fwcfg = Object.entries(input.fwcfgFiles ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  for (const [key] of fwcfg) {
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(key) || FWCFG_PREFIX.length + key.length > FWCFG_NAME_MAX) {
      throw new Error(
        `domainXml: fw_cfg key '${key}' must be [a-z0-9._-] and fit in ${FWCFG_NAME_MAX} bytes`,
      );
    }
  }

  const shares = input.shares ?? [];
  if (shares.some((sh) => sh.readOnly) && !input.virtiofsdReadOnly)
    throw new Error(`domainXml: agent ${agent.name} has a read-only share but no virtiofsdReadOnly wrapper`);

  const net = input.network;
  const libvirtPasst = net.mode === 'open' && net.portForward === 'passt';
  const dom = create().ele('domain', { type: input.domainType });
  if (!libvirtPasst) dom.att('xmlns:qemu', QEMU_NS);
  dom.ele('name').txt(input.domainName ?? domainName(agent.name));
  const owner = input.fleet && {
    fleet: input.fleet.id,
    fleetDir: input.fleet.dir,
    stateDir: input.fleet.stateDir,
  };
  dom
    .ele('metadata')
    .ele(AGENT_METADATA_NS, 'agentfleet:agent', { name: agent.name, specHash: '', ...owner });
  dom.ele('memory', { unit: 'MiB' }).txt(String(agent.memoryMiB));
  dom.ele('currentMemory', { unit: 'MiB' }).txt(String(agent.memoryMiB));
  // vhost-user (virtiofsd) reads and writes guest memory directly: it must be shared, file-backed memory.
  if (shares.length > 0) {
    const backing = dom.ele('memoryBacking');
    backing.ele('source', { type: 'memfd' });
    backing.ele('access', { mode: 'shared' });
  }
  dom.ele('vcpu', { placement: 'static' }).txt(String(agent.vcpus));
  const tune = dom.ele('cputune');
  alloc.cores.forEach((core, vcpu) => {
    tune.ele('vcpupin', { vcpu: String(vcpu), cpuset: String(core) });
  });
  // The emulator thread (device I/O, the main loop) must not compete with the vCPUs on their own core: it goes to
  // the cores kept for the host, or, with none kept, floats where the scheduler finds room.
  if (input.reservedCores && input.reservedCores.length > 0)
    tune.ele('emulatorpin', { cpuset: cpuset(input.reservedCores) });
  if (fwcfg.length > 0 || shares.length > 0) {
    const sysinfo = dom.ele('sysinfo', { type: 'fwcfg' });
    for (const [key, file] of fwcfg) sysinfo.ele('entry', { name: `${FWCFG_PREFIX}${key}`, file });
    // Inline (so on QEMU's command line): tags and guest mount points only, nothing secret or from the host.
    if (shares.length > 0)
      sysinfo.ele('entry', { name: `${FWCFG_PREFIX}shares` }).txt(sharesAnnouncement(shares));
  }
  const os = dom.ele('os');
  os.ele('type', { arch: 'x86_64', machine: 'q35' }).txt('hvm');
  os.ele('boot', { dev: 'hd' });
  const features = dom.ele('features');
  features.ele('acpi');
  features.ele('apic');
  // -cpu host only where KVM was proven to work; TCG keeps QEMU's default model.
  if (input.domainType === 'kvm') dom.ele('cpu', { mode: 'host-passthrough', check: 'none' });
  dom.ele('clock', { offset: 'utc' });
  dom.ele('on_poweroff').txt('destroy');
  dom.ele('on_reboot').txt('restart');
  dom.ele('on_crash').txt('destroy');

  const dev = dom.ele('devices');
  if (input.emulator) dev.ele('emulator').txt(input.emulator);
  const disk = dev.ele('disk', { type: 'file', device: 'disk' });
  disk.ele('driver', { name: 'qemu', type: 'qcow2', discard: 'unmap' });
  disk.ele('source', { file: input.diskPath });
  disk.ele('target', { dev: 'vda', bus: 'virtio' });
  for (const sh of shares) {
    const fs = dev.ele('filesystem', { type: 'mount', accessmode: 'passthrough' });
    fs.ele('driver', { type: 'virtiofs' });
    if (sh.readOnly) fs.ele('binary', { path: input.virtiofsdReadOnly });
    fs.ele('source', { dir: sh.source });
    fs.ele('target', { dir: sh.tag });
  }
  if (libvirtPasst) {
    const nic = dev.ele('interface', { type: 'user' });
    nic.ele('mac', { address: alloc.mac });
    nic.ele('model', { type: 'virtio' });
    nic.ele('backend', { type: 'passt' });
    nic
      .ele('portForward', { proto: 'tcp', address: '127.0.0.1' })
      .ele('range', { start: String(alloc.sshPort), to: String(GUEST_SSH_PORT) });
  }
  // A pty for `fleet console` to attach to, and QEMU logs everything the guest writes to the file
  // `fleet logs` and the readiness hints read, whether or not anyone is attached.
  const serial = dev.ele('serial', { type: 'pty' });
  serial.ele('log', { file: input.consoleLogPath, append: 'on' });
  serial.ele('target', { port: '0' });
  const console = dev.ele('console', { type: 'pty' });
  console.ele('log', { file: input.consoleLogPath, append: 'on' });
  console.ele('target', { type: 'serial', port: '0' });
  const spice = dev.ele('channel', { type: 'spicevmc' });
  spice.ele('target', { type: 'virtio', name: 'com.redhat.spice.0' });
  const ga = dev.ele('channel', { type: 'unix' });
  ga.ele('target', { type: 'virtio', name: 'org.qemu.guest_agent.0' });
  dev.ele('input', { type: 'tablet', bus: 'usb' });
  dev.ele('graphics', { type: 'spice' }).ele('listen', { type: 'socket', socket: input.spiceSocket });
  dev.ele('video').ele('model', { type: 'virtio', heads: '1', primary: 'yes' });
  dev.ele('memballoon', { model: 'virtio' });
  dev.ele('rng', { model: 'virtio' }).ele('backend', { model: 'random' }).txt('/dev/urandom');

  if (!libvirtPasst) {
    // The NIC through QEMU directly: libvirt 9.0 has neither passt nor `-netdev stream`, and an
    // <interface> next to this would add a second NIC with the same MAC (the seed's luce bug).
    const cmd = dom.ele(QEMU_NS, 'qemu:commandline');
    const args = [
      '-netdev',
      qemuNetdev(net, alloc.sshPort),
      '-device',
      // An explicit slot: libvirt assigns addresses only to devices it knows, so without one QEMU
      // puts the NIC on pcie.0 slot 1 and then fails to place libvirt's video device there.
      `virtio-net-pci,netdev=net0,mac=${alloc.mac},bus=pcie.0,addr=0x10`,
    ];
    for (const value of args) cmd.ele(QEMU_NS, 'qemu:arg', { value });
  }
  // The hash is of the finished text without its metadata, so it is filled in last.
  const xml = dom.end({ prettyPrint: true, headless: true });
  return xml.replace('specHash=""', `specHash="${specHash(xml)}"`);
}

function qemuNetdev(net: DomainNetwork, sshPort: number): string {
  const forward = `hostfwd=tcp:127.0.0.1:${sshPort}-:${GUEST_SSH_PORT}`;
  switch (net.mode) {
    case 'isolated':
      return `stream,id=net0,server=off,addr.type=unix,addr.path=${net.socketPath}`;
    case 'none':
      return `user,id=net0,restrict=on,${forward}`;
    case 'open':
      return `user,id=net0,${forward}`;
  }
}

/** agentfleet's metadata in a domain XML (as libvirt returns it), or undefined for foreign domains. */
export function domainMetadataOf(xml: string): DomainMetadata | undefined {
  const el = xmlElements(xml).find(
    (e) => e.namespaceURI === AGENT_METADATA_NS && e.localName === 'agent' && under(e, 'metadata', 'domain'),
  );
  const agent = el?.getAttribute('name');
  const hash = el?.getAttribute('specHash');
  if (!el || !agent || !hash) return undefined;
  const id = el.getAttribute('fleet');
  const dir = el.getAttribute('fleetDir');
  const stateDir = el.getAttribute('stateDir');
  const fleet = id ? { id, ...(dir && { dir }), ...(stateDir && { stateDir }) } : undefined;
  return { agent, specHash: hash, ...(fleet && { fleet }) };
}
