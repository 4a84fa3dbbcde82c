// core's Hypervisor port on top of the binding: what the engine drives.
import type { DomainSummary, HostFacts, Hypervisor, NodeSize } from '@agentfleet/core';
import { type Connection, open } from './connection.js';
import type { Domain } from './domain.js';
import { NoSuchDomainError } from './errors.js';
import { probeKvm, probePasst } from './host-probes.js';
import { createXml as create } from './lazy-xml.js';

export class LibvirtHypervisor implements Hypervisor {
  private factsOnce: Promise<HostFacts> | undefined;

  private constructor(
    /** The underlying connection, for calls beyond the port (events, snapshots, monitor). */
    readonly connection: Connection,
    readonly uri: string,
  ) {}

  /** Opens `uri` (e.g. qemu:///system, qemu+ssh://host/system, test:///default). */
  static async connect(uri: string, opts: { readOnly?: boolean } = {}): Promise<LibvirtHypervisor> {
    return new LibvirtHypervisor(await open(uri, opts), uri);
  }

  /** Probed once per connection; the KVM probe boots a throwaway domain for a few seconds. */
  facts(): Promise<HostFacts> {
    this.factsOnce ??= this.probeFacts();
    return this.factsOnce;
  }

  private async probeFacts(): Promise<HostFacts> {
    const c = this.connection;
    const [hostname, libVersion, node, kvmUsable, passtSupported] = await Promise.all([
      c.hostname(),
      c.libVersion(),
      c.nodeInfo(),
      probeKvm(c),
      probePasst(c),
    ]);
    return { uri: this.uri, hostname, libVersion, cpus: node.cpus, kvmUsable, passtSupported };
  }

  async node(): Promise<NodeSize> {
    const n = await this.connection.nodeInfo();
    return { cpus: n.cpus, memoryMiB: Math.floor(n.memoryKiB / 1024) };
  }

  async listDomains(): Promise<DomainSummary[]> {
    const all = await this.connection.listAllDomains();
    return all.map(({ name, uuid, state }) => ({ name, uuid, state }));
  }

  async domainXml(name: string, opts: { inactive?: boolean } = {}): Promise<string | undefined> {
    try {
      return await this.withDomain(name, (d) => d.xml(opts));
    } catch (err) {
      if (err instanceof NoSuchDomainError) return undefined;
      throw err;
    }
  }

  /**
   * virDomainDefineXMLFlags. libvirt refuses a same-name definition without the existing UUID
   * ("already exists with uuid"), so a missing <uuid> is taken from the defined domain: define
   * then means "replace this domain's config", as the port promises.
   */
  async define(xml: string): Promise<void> {
    const ids = domainIdentity(xml);
    let text = xml;
    if (ids && !ids.hasUuid) {
      const uuid = await this.withDomain(ids.name, async (d) => d.uuid).catch((err: unknown) => {
        if (err instanceof NoSuchDomainError) return undefined;
        throw err;
      });
      if (uuid) text = ids.withUuid(uuid);
    }
    const dom = await this.connection.defineXML(text);
    dom.free();
  }

  start(name: string): Promise<void> {
    return this.withDomain(name, (d) => d.start());
  }

  shutdown(name: string): Promise<void> {
    return this.withDomain(name, (d) => d.shutdown());
  }

  destroy(name: string): Promise<void> {
    return this.withDomain(name, (d) => d.destroy());
  }

  /** Also drops snapshot metadata and managed-save images, which would otherwise block it. */
  undefine(name: string): Promise<void> {
    return this.withDomain(name, (d) => d.undefine({ snapshotsMetadata: true, managedSave: true }));
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  private async withDomain<T>(name: string, use: (d: Domain) => Promise<T>): Promise<T> {
    const dom = await this.connection.lookupByName(name);
    try {
      return await use(dom);
    } finally {
      dom.free();
    }
  }
}

interface DomainIdentity {
  name: string;
  hasUuid: boolean;
  withUuid(uuid: string): string;
}

/** Name and UUID presence of a domain XML; undefined when it does not parse (libvirt will say why). */
function domainIdentity(xml: string): DomainIdentity | undefined {
  let doc: ReturnType<typeof create>;
  try {
    doc = create(xml);
  } catch {
    return undefined;
  }
  const root = doc.root();
  const child = (tag: string) => root.find((n) => n.node.nodeName === tag, false, false);
  const name = child('name')?.node.textContent?.trim();
  if (root.node.nodeName !== 'domain' || !name) return undefined;
  return {
    name,
    hasUuid: child('uuid') !== undefined,
    withUuid: (uuid) => {
      root.ele('uuid').txt(uuid);
      return doc.end({ headless: true });
    },
  };
}
