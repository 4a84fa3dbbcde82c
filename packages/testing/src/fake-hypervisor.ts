// In-memory Hypervisor that follows libvirt's rules closely enough for engine tests: the same
// contract suite (hypervisor-contract.ts) runs against it and real libvirt.
import {
  type DomainState,
  type DomainSummary,
  type HostFacts,
  type Hypervisor,
  HypervisorError,
  type NodeSize,
} from '@agentfleet/core';
import { create } from 'xmlbuilder2';

interface FakeDomain {
  name: string;
  uuid: string;
  state: DomainState;
  /** Config used on next start; undefined once a running domain is undefined (transient). */
  persistentXml: string | undefined;
  /** Config of the running instance. */
  liveXml: string | undefined;
  autostart: boolean;
  /** Reboots the guest went through while running (a test's stand-in for uptime). */
  reboots: number;
}

const defaultFacts = (uri: string): HostFacts => ({
  uri,
  hostname: 'fake-host',
  libVersion: '9.0.0',
  cpus: 4,
  kvmUsable: false,
  passtSupported: false,
});

export class FakeHypervisor implements Hypervisor {
  private readonly domains = new Map<string, FakeDomain>();
  private readonly hostFacts: HostFacts;
  private closed = false;
  private uuidCounter = 0;

  constructor(
    readonly uri = 'fake:///default',
    facts: Partial<HostFacts> = {},
  ) {
    this.hostFacts = { ...defaultFacts(uri), ...facts };
  }

  async facts(): Promise<HostFacts> {
    this.assertOpen();
    return { ...this.hostFacts };
  }

  async node(): Promise<NodeSize> {
    this.assertOpen();
    return { cpus: this.hostFacts.cpus, memoryMiB: 8192 };
  }

  async listDomains(): Promise<DomainSummary[]> {
    this.assertOpen();
    return [...this.domains.values()].map(({ name, uuid, state }) => ({ name, uuid, state }));
  }

  async domainXml(name: string, opts: { inactive?: boolean } = {}): Promise<string | undefined> {
    this.assertOpen();
    const d = this.domains.get(name);
    if (!d) return undefined;
    // Like virDomainGetXMLDesc(VIR_DOMAIN_XML_INACTIVE): the next-boot config when one exists.
    if (opts.inactive && d.persistentXml !== undefined) return d.persistentXml;
    return d.liveXml ?? d.persistentXml;
  }

  async define(xml: string): Promise<void> {
    this.assertOpen();
    const parsed = parseDomainXml(xml);
    const existing = this.domains.get(parsed.name);
    const byUuid = parsed.uuid && [...this.domains.values()].find((d) => d.uuid === parsed.uuid);
    if (byUuid && byUuid.name !== parsed.name) {
      throw new HypervisorError(
        'already-exists',
        `domain '${byUuid.name}' already exists with uuid ${parsed.uuid}`,
      );
    }
    if (existing) {
      // libvirt refuses a same-name definition carrying a different UUID.
      if (parsed.uuid && parsed.uuid !== existing.uuid) {
        throw new HypervisorError(
          'already-exists',
          `domain '${existing.name}' is already defined with uuid ${existing.uuid}`,
        );
      }
      existing.persistentXml = withUuid(parsed, existing.uuid);
      return;
    }
    const uuid = parsed.uuid ?? this.nextUuid();
    this.domains.set(parsed.name, {
      name: parsed.name,
      uuid,
      state: 'shutoff',
      persistentXml: withUuid(parsed, uuid),
      liveXml: undefined,
      autostart: false,
      reboots: 0,
    });
  }

  async start(name: string): Promise<void> {
    const d = this.lookup(name);
    if (hasQemuProcess(d.state)) throw new HypervisorError('operation-invalid', 'domain is already running');
    d.state = 'running';
    d.liveXml = d.persistentXml;
  }

  async shutdown(name: string): Promise<void> {
    const d = this.lookup(name);
    if (!hasQemuProcess(d.state)) throw new HypervisorError('operation-invalid', 'domain is not running');
    // A guest that honours ACPI powers off; the fake's guest always does, at once.
    this.stopped(d);
  }

  async destroy(name: string): Promise<void> {
    const d = this.lookup(name);
    if (!hasQemuProcess(d.state)) throw new HypervisorError('operation-invalid', 'domain is not running');
    this.stopped(d);
  }

  async reboot(name: string): Promise<void> {
    const d = this.lookup(name);
    if (!hasQemuProcess(d.state)) throw new HypervisorError('operation-invalid', 'domain is not running');
    // The fake's guest honours ACPI at once; the domain stays running, as a real reboot keeps QEMU.
    d.reboots += 1;
  }

  /** How many reboots the running domain went through (what a real test reads from uptime). */
  rebootsOf(name: string): number {
    return this.lookup(name).reboots;
  }

  async autostart(name: string): Promise<boolean> {
    return this.lookup(name).autostart;
  }

  async setAutostart(name: string, on: boolean): Promise<void> {
    const d = this.lookup(name);
    if (d.persistentXml === undefined) {
      throw new HypervisorError('operation-invalid', 'cannot set autostart for transient domain');
    }
    d.autostart = on;
  }

  async undefine(name: string): Promise<void> {
    const d = this.lookup(name);
    if (d.persistentXml === undefined) {
      throw new HypervisorError('operation-invalid', 'cannot undefine transient domain');
    }
    // An active domain becomes transient and vanishes when it stops, as in libvirt.
    if (hasQemuProcess(d.state)) d.persistentXml = undefined;
    else this.domains.delete(name);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private stopped(d: FakeDomain): void {
    d.liveXml = undefined;
    if (d.persistentXml === undefined) this.domains.delete(d.name);
    else d.state = 'shutoff';
  }

  private lookup(name: string): FakeDomain {
    this.assertOpen();
    const d = this.domains.get(name);
    if (!d)
      throw new HypervisorError('no-such-domain', `Domain not found: no domain with matching name '${name}'`);
    return d;
  }

  private assertOpen(): void {
    if (this.closed) throw new HypervisorError('closed', `connection to ${this.uri} is closed`);
  }

  private nextUuid(): string {
    this.uuidCounter += 1;
    return `00000000-0000-4000-8000-${this.uuidCounter.toString(16).padStart(12, '0')}`;
  }
}

// virDomainIsActive: the domain has a QEMU process (a shutting-down domain still has one); not
// core's isActive, which says whether the plan counts an agent as up.
const hasQemuProcess = (s: DomainState): boolean => s !== 'shutoff' && s !== 'nostate' && s !== 'crashed';

interface ParsedDomain {
  name: string;
  uuid: string | undefined;
  doc: ReturnType<typeof create>;
}

function parseDomainXml(xml: string): ParsedDomain {
  let doc: ReturnType<typeof create>;
  try {
    doc = create(xml);
  } catch (err) {
    throw new HypervisorError('invalid-config', `XML error: ${(err as Error).message}`, { cause: err });
  }
  const root = doc.root();
  if (root.node.nodeName !== 'domain') {
    throw new HypervisorError(
      'invalid-config',
      `XML error: expected root element <domain>, got <${root.node.nodeName}>`,
    );
  }
  const child = (tag: string) =>
    root.find((n) => n.node.nodeName === tag, false, false)?.node.textContent?.trim();
  const name = child('name');
  if (!name) throw new HypervisorError('invalid-config', 'XML error: missing domain name information');
  return { name, uuid: child('uuid')?.toLowerCase(), doc };
}

/** The definition as stored: libvirt always reports the UUID, generated or given. */
function withUuid(parsed: ParsedDomain, uuid: string): string {
  if (!parsed.uuid) parsed.doc.root().ele('uuid').txt(uuid);
  return parsed.doc.end({ headless: true, prettyPrint: true });
}
