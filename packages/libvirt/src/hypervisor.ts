// core's Hypervisor port on top of the binding: what the engine drives.
import type {
  DomainState,
  DomainSummary,
  HostFacts,
  Hypervisor,
  NodeSize,
} from '@agentfleet/core/hypervisor';
import { createXml as create } from '@agentfleet/core/lazy-libs';
import { isActive } from '@agentfleet/core/plan/compute';
import { type Connection, open } from './connection.js';
import type { Domain } from './domain.js';
import { ConnectionLostError, NoSuchDomainError } from './errors.js';
import { probeKvm, probePasst } from './host-probes.js';

/** How long a lost connection is reopened for: a daemon restart takes about a second. */
export const RECONNECT_SECONDS = 30;

export class LibvirtHypervisor implements Hypervisor {
  private factsOnce: Promise<HostFacts> | undefined;
  private reopening: Promise<Connection> | undefined;
  private closedByUser = false;

  private constructor(
    private current: Connection,
    readonly uri: string,
    private readonly opts: { readOnly?: boolean },
  ) {}

  /** Opens `uri` (e.g. qemu:///system, qemu+ssh://host/system, test:///default). */
  static async connect(uri: string, opts: { readOnly?: boolean } = {}): Promise<LibvirtHypervisor> {
    return new LibvirtHypervisor(await open(uri, opts), uri, opts);
  }

  /**
   * The underlying connection, for calls beyond the port (events, snapshots, monitor). After a
   * daemon restart it is a new one: take it again rather than keep it.
   */
  get connection(): Connection {
    return this.current;
  }

  /** Probed once per connection; the KVM probe boots a throwaway domain for a few seconds. */
  facts(): Promise<HostFacts> {
    this.factsOnce ??= this.probeFacts();
    return this.factsOnce;
  }

  private async probeFacts(): Promise<HostFacts> {
    const c = await this.live();
    const [hostname, libVersion, node, kvmUsable, passtSupported] = await Promise.all([
      c.hostname(),
      c.libVersion(),
      c.nodeInfo(),
      probeKvm(c),
      probePasst(c),
    ]);
    return { uri: this.uri, hostname, libVersion, cpus: node.cpus, kvmUsable, passtSupported };
  }

  node(): Promise<NodeSize> {
    return this.call(async (c) => {
      const n = await c.nodeInfo();
      return { cpus: n.cpus, memoryMiB: Math.floor(n.memoryKiB / 1024) };
    }, 'again');
  }

  listDomains(): Promise<DomainSummary[]> {
    return this.call(
      async (c) => (await c.listAllDomains()).map(({ name, uuid, state }) => ({ name, uuid, state })),
      'again',
    );
  }

  async domainXml(name: string, opts: { inactive?: boolean } = {}): Promise<string | undefined> {
    try {
      return await this.call((c) => withDomain(c, name, (d) => d.xml(opts)), 'again');
    } catch (err) {
      if (err instanceof NoSuchDomainError) return undefined;
      throw err;
    }
  }

  /**
   * virDomainDefineXMLFlags. libvirt refuses a same-name definition without the existing UUID
   * ("already exists with uuid"), so a missing <uuid> is taken from the defined domain: define
   * then means "replace this domain's config", as the port promises (and may be repeated).
   */
  define(xml: string): Promise<void> {
    return this.call(async (c) => {
      const ids = domainIdentity(xml);
      let text = xml;
      if (ids && !ids.hasUuid) {
        const uuid = await withDomain(c, ids.name, async (d) => d.uuid).catch((err: unknown) => {
          if (err instanceof NoSuchDomainError) return undefined;
          throw err;
        });
        if (uuid) text = ids.withUuid(uuid);
      }
      const dom = await c.defineXML(text);
      dom.free();
    }, 'again');
  }

  // The calls below change a domain's state: when the connection drops mid-call, whether libvirt
  // did it is unknown, so the domain's state on the new connection decides (done, or do it again).

  start(name: string): Promise<void> {
    return this.call((c) => withDomain(c, name, (d) => d.start()), this.unlessState(name, isActive));
  }

  /** ACPI request: asking again is harmless, and a domain already off needs none. */
  shutdown(name: string): Promise<void> {
    return this.call(
      (c) => withDomain(c, name, (d) => d.shutdown()),
      this.unlessState(name, (s) => !isActive(s)),
    );
  }

  destroy(name: string): Promise<void> {
    return this.call(
      (c) => withDomain(c, name, (d) => d.destroy()),
      this.unlessState(name, (s) => !isActive(s)),
    );
  }

  /** An ACPI request the guest may ignore: repeating it after a reconnect is harmless. */
  reboot(name: string): Promise<void> {
    return this.call((c) => withDomain(c, name, (d) => d.reboot()), 'again');
  }

  autostart(name: string): Promise<boolean> {
    return this.call((c) => withDomain(c, name, (d) => d.autostart()), 'again');
  }

  setAutostart(name: string, on: boolean): Promise<void> {
    return this.call((c) => withDomain(c, name, (d) => d.setAutostart(on)), 'again');
  }

  /** Also drops snapshot metadata and managed-save images, which would otherwise block it. */
  undefine(name: string): Promise<void> {
    return this.call(
      (c) => withDomain(c, name, (d) => d.undefine({ snapshotsMetadata: true, managedSave: true })),
      this.unlessState(name, (s) => s === undefined),
    );
  }

  close(): Promise<void> {
    this.closedByUser = true;
    return this.current.close();
  }

  /**
   * Runs `use` on a live connection. When the connection turns out lost (the daemon restarted),
   * a new one is opened and `use` runs once more: at once for a call that may be repeated
   * ('again'), or unless `settled` finds on the new connection that the first attempt took effect.
   */
  private async call<T>(
    use: (c: Connection) => Promise<T>,
    retry: 'again' | ((c: Connection) => Promise<boolean>),
  ): Promise<T> {
    const c = await this.live();
    try {
      return await use(c);
    } catch (err) {
      if (!(err instanceof ConnectionLostError) && c.isAlive()) throw err;
      const fresh = await this.live();
      if (retry !== 'again' && (await retry(fresh))) return undefined as T;
      return use(fresh);
    }
  }

  /** A retry check: the domain's state on the new connection already is what the call wanted. */
  private unlessState(name: string, wanted: (s: DomainState | undefined) => boolean) {
    return async (c: Connection): Promise<boolean> =>
      wanted((await c.listAllDomains()).find((d) => d.name === name)?.state);
  }

  /** The connection, or a new one when libvirt reported it lost (its close callback) or dead. */
  private live(): Promise<Connection> {
    const c = this.current;
    if (this.closedByUser || (c.lostReason === undefined && c.isAlive())) return Promise.resolve(c);
    this.reopening ??= this.reopen(c).finally(() => {
      this.reopening = undefined;
    });
    return this.reopening;
  }

  /** Reopens for up to RECONNECT_SECONDS while the daemon comes back. */
  private async reopen(lost: Connection): Promise<Connection> {
    const reason = lost.lostReason ?? 'dead transport';
    await lost.close().catch(() => {});
    const deadline = Date.now() + RECONNECT_SECONDS * 1000;
    for (let pause = 100; ; pause = Math.min(pause * 2, 2000)) {
      try {
        this.current = await open(this.uri, this.opts);
        return this.current;
      } catch (err) {
        if (Date.now() > deadline) {
          throw new Error(
            `the libvirt connection to ${this.uri} was lost (${reason}) and could not be reopened within ` +
              `${RECONNECT_SECONDS} s: ${(err as Error).message}`,
            { cause: err },
          );
        }
        await new Promise((r) => setTimeout(r, pause));
      }
    }
  }
}

async function withDomain<T>(c: Connection, name: string, use: (d: Domain) => Promise<T>): Promise<T> {
  const dom = await c.lookupByName(name);
  try {
    return await use(dom);
  } finally {
    dom.free();
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
