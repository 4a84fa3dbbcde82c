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

/** One libvirt connection as the engine needs it. Names are libvirt domain names. */
export interface Hypervisor {
  readonly uri: string;
  facts(): Promise<HostFacts>;
  listDomains(): Promise<DomainSummary[]>;
  /** Domain XML, or undefined when no such domain exists. */
  domainXml(name: string, opts?: { inactive?: boolean }): Promise<string | undefined>;
  define(xml: string): Promise<void>;
  start(name: string): Promise<void>;
  /** ACPI power-button request; returns immediately. */
  shutdown(name: string): Promise<void>;
  destroy(name: string): Promise<void>;
  undefine(name: string): Promise<void>;
  close(): Promise<void>;
}
