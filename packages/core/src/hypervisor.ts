// Interfaces the engine drives; adapters (libvirt, ssh, secrets, fs) implement them and
// tests substitute in-memory fakes. core itself performs no I/O.

/** Domain lifecycle state as libvirt reports it (virDomainState). */
export type DomainState =
  | 'nostate'
  | 'running'
  | 'blocked'
  | 'paused'
  | 'shutdown'
  | 'shutoff'
  | 'crashed'
  | 'pmsuspended';

export interface DomainSummary {
  name: string;
  uuid: string;
  state: DomainState;
}

/** What a libvirt host can do, probed once per connection. */
export interface HostFacts {
  uri: string;
  hostname: string;
  /** libvirt library version, e.g. "9.0.0". */
  libVersion: string;
  /** Logical CPUs on the host. */
  cpus: number;
  /** True only when KVM domains were proven to work, not merely advertised. */
  kvmUsable: boolean;
  /** True when the driver accepts <interface type='user'><backend type='passt'/>. */
  passtSupported: boolean;
}

/** A libvirt host's CPUs and memory. */
export interface NodeSize {
  cpus: number;
  memoryMiB: number;
}

/** One libvirt connection as the engine needs it. Names are libvirt domain names. */
export interface Hypervisor {
  readonly uri: string;
  facts(): Promise<HostFacts>;
  /** The host's size as libvirt reports it (virNodeGetInfo): cheap, unlike facts(), which probes. */
  node(): Promise<NodeSize>;
  listDomains(): Promise<DomainSummary[]>;
  /** Domain XML, or undefined when no such domain exists. */
  domainXml(name: string, opts?: { inactive?: boolean }): Promise<string | undefined>;
  define(xml: string): Promise<void>;
  start(name: string): Promise<void>;
  /** ACPI power-button request; returns immediately. */
  shutdown(name: string): Promise<void>;
  destroy(name: string): Promise<void>;
  /** ACPI reboot request of a running domain; returns immediately (the QEMU process stays). */
  reboot(name: string): Promise<void>;
  /** Whether the hypervisor starts the domain when it starts itself (libvirt autostart). */
  autostart(name: string): Promise<boolean>;
  setAutostart(name: string, on: boolean): Promise<void>;
  undefine(name: string): Promise<void>;
  close(): Promise<void>;
}

/** One agent's user-mode network helper (passt) as `network: isolated` needs it. */
export interface GuestNetworkSpec {
  agent: string;
  /** The agent's libvirt host: its helper runs there (over the host's SSH when that is not this machine). */
  uri: string;
  /** Unix socket QEMU joins (`-netdev stream`), in a directory only fleet's user can enter. */
  socketPath: string;
  /** 127.0.0.1:<sshPort> on the host is forwarded to the guest's port 22. */
  sshPort: number;
}

/**
 * Runs the per-agent network helpers on the libvirt host. A helper is known by its socket path,
 * so one started by a run that was killed is found (and reused or stopped) by the next.
 */
export interface GuestNetworks {
  /** Makes the private (0700) directory an agent's sockets live in, tightening one that exists. */
  prepareDir(dir: string): Promise<void>;
  /** Starts the helper unless one already serves spec.socketPath; resolves once it accepts QEMU. */
  ensure(spec: GuestNetworkSpec): Promise<void>;
  /** `uri`: the libvirt host the helper runs on (socket paths are that host's). */
  isRunning(socketPath: string, uri: string): Promise<boolean>;
  /** Stops the helper serving socketPath on `uri`'s host, if any. */
  stop(socketPath: string, uri: string): Promise<void>;
}
