// Typed wrapper of one libvirt connection (virConnectPtr).
//
// Concurrency: calls are not serialized. libvirt connections are thread-safe, so calls run in
// parallel on libuv's pool (UV_THREADPOOL_SIZE, default 4) and complete in any order; each
// holds its own libvirt reference, so close() with calls in flight is safe (they finish, and
// calls made after close() reject with HandleClosedError).
import type { DomainState } from '@agentfleet/core';
import {
  ConnectFlags,
  type ConnectionCloseReason,
  closeReasonName,
  DefineFlags,
  domainStateName,
  formatVersion,
  type LifecycleEventType,
  type ListDomainsFlags,
  type StartFlags,
} from './constants.js';
import { Domain } from './domain.js';
import { allDomainStats, type DomainStatsRecord } from './domain-stats.js';
import { libvirtError, withCallerStack } from './errors.js';
import { type NativeConnection, type NativeNodeInfo, native } from './native.js';
import { Storage } from './storage.js';

native.setErrorFactory(libvirtError);

export interface OpenOptions {
  /** VIR_CONNECT_RO: virConnectOpenAuth with a read-only connection. */
  readOnly?: boolean;
}

export type NodeInfo = NativeNodeInfo;

export interface DomainListEntry {
  name: string;
  uuid: string;
  /** Hypervisor id, -1 when not running. */
  id: number;
  state: DomainState;
  /** Driver-specific reason for the state (virDomain*Reason). */
  reason: number;
  persistent: boolean;
}

export interface LifecycleEvent {
  domain: string;
  uuid: string;
  event: LifecycleEventType;
  /** virDomainEvent*DetailType for the event, e.g. VIR_DOMAIN_EVENT_STOPPED_DESTROYED. */
  detail: number;
}

export interface EventSubscription {
  /** virConnectDomainEventDeregisterAny; idempotent. */
  close(): Promise<void>;
}

export interface DomainCapabilitiesQuery {
  emulator?: string;
  arch?: string;
  machine?: string;
  /** e.g. "kvm" or "qemu". */
  virtType?: string;
}

/**
 * virConnectOpenAuth (no interactive auth: remote URIs such as qemu+ssh:// rely on ssh keys or
 * an agent). Starts the binding's event-loop thread, which remote connections need.
 */
export async function open(uri?: string, opts: OpenOptions = {}): Promise<Connection> {
  const flags = opts.readOnly ? ConnectFlags.ReadOnly : 0;
  return new Connection(await withCallerStack(() => native.open(uri ?? null, flags)));
}

export class Connection {
  /** @internal use open(). */
  constructor(private readonly native: NativeConnection) {}

  /** Storage pools and volumes of this connection's host. */
  get storage(): Storage {
    return new Storage(this.native);
  }

  /** virConnectGetURI: the canonical URI (local, no daemon round trip). */
  get uri(): string {
    return this.native.getURI();
  }

  get closed(): boolean {
    return this.native.isClosed();
  }

  /** virConnectIsAlive: false once closed or when the transport broke. */
  isAlive(): boolean {
    return this.native.isAlive();
  }

  /**
   * Why the transport closed under this connection (libvirt's close callback: the daemon exited
   * or restarted, a keepalive timed out, a socket error), undefined while it has not. A lost
   * connection never comes back: open a new one.
   */
  get lostReason(): ConnectionCloseReason | undefined {
    return closeReasonName(this.native.closeReason());
  }

  /** virConnectClose. Idempotent; lifecycle subscriptions end with it. */
  close(): Promise<void> {
    return this.native.close();
  }

  /** virConnectGetLibVersion: libvirt version on the host serving the connection, "9.0.0". */
  async libVersion(): Promise<string> {
    return formatVersion(await withCallerStack(() => this.native.getLibVersion()));
  }

  /** virConnectGetVersion: hypervisor (e.g. QEMU) version. */
  async hypervisorVersion(): Promise<string> {
    return formatVersion(await withCallerStack(() => this.native.getVersion()));
  }

  /** virConnectGetHostname. */
  hostname(): Promise<string> {
    return withCallerStack(() => this.native.getHostname());
  }

  /** virConnectGetCapabilities: capabilities XML. */
  capabilities(): Promise<string> {
    return withCallerStack(() => this.native.getCapabilities());
  }

  /** virConnectGetDomainCapabilities: domain capabilities XML. */
  domainCapabilities(q: DomainCapabilitiesQuery = {}): Promise<string> {
    return withCallerStack(() =>
      this.native.getDomainCapabilities(
        q.emulator ?? null,
        q.arch ?? null,
        q.machine ?? null,
        q.virtType ?? null,
        0,
      ),
    );
  }

  /** virNodeGetInfo: CPU count and topology, memory. */
  nodeInfo(): Promise<NodeInfo> {
    return withCallerStack(() => this.native.getNodeInfo());
  }

  /** virConnectListAllDomains + virDomainGetState per domain: every domain with its state. */
  async listAllDomains(flags: ListDomainsFlags | 0 = 0): Promise<DomainListEntry[]> {
    const rows = await withCallerStack(() => this.native.listAllDomains(flags));
    return rows.map((r) => ({ ...r, state: domainStateName(r.state) }));
  }

  /**
   * virConnectGetAllDomainStats: counters of every domain (`types`: DomainStatsTypes bits, `flags`:
   * DomainStatsFlags bits), fetched in one round trip.
   */
  domainStats(types: number, flags = 0): Promise<DomainStatsRecord[]> {
    return allDomainStats(this.native, types, flags);
  }

  /** virDomainLookupByName; rejects with NoSuchDomainError. */
  async lookupByName(name: string): Promise<Domain> {
    return new Domain(await withCallerStack(() => this.native.lookupDomainByName(name)));
  }

  /** virDomainLookupByUUIDString; rejects with NoSuchDomainError. */
  async lookupByUUID(uuid: string): Promise<Domain> {
    return new Domain(await withCallerStack(() => this.native.lookupDomainByUUIDString(uuid)));
  }

  /** virDomainDefineXMLFlags; `validate` checks the XML against libvirt's schema. */
  async defineXML(xml: string, opts: { validate?: boolean } = {}): Promise<Domain> {
    const flags = opts.validate ? DefineFlags.Validate : 0;
    return new Domain(await withCallerStack(() => this.native.defineDomain(xml, flags)));
  }

  /** virDomainCreateXML: create and boot a transient domain. */
  async createXML(xml: string, flags: StartFlags | 0 = 0): Promise<Domain> {
    return new Domain(await withCallerStack(() => this.native.createDomain(xml, flags)));
  }

  /**
   * virConnectDomainEventRegisterAny(VIR_DOMAIN_EVENT_ID_LIFECYCLE): `listener` runs on the
   * main thread for every domain defined/started/stopped/crashed... until the subscription or
   * the connection is closed. An open subscription keeps the process alive; a listener that
   * throws raises an uncaught exception. Keep the Connection referenced: a collected
   * connection ends its subscriptions.
   */
  async onLifecycle(listener: (ev: LifecycleEvent) => void): Promise<EventSubscription> {
    const id = await withCallerStack(() =>
      this.native.registerLifecycleEvents((e) => {
        try {
          listener({ domain: e.name, uuid: e.uuid, event: e.event, detail: e.detail });
        } catch (err) {
          // Node swallows exceptions thrown inside Node-API callbacks (with a deprecation
          // warning); rethrown outside it, a failing listener is an ordinary uncaught exception.
          setImmediate(() => {
            throw err;
          });
        }
      }),
    );
    let closed = false;
    return {
      close: async () => {
        if (closed || this.native.isClosed()) return;
        closed = true;
        await withCallerStack(() => this.native.deregisterEvent(id));
      },
    };
  }
}

/** virGetVersion: the libvirt library this process loaded, e.g. "9.0.0". */
export function libraryVersion(): string {
  return formatVersion(native.getLibraryVersion());
}

/**
 * Stops the binding's libvirt event-loop thread (it also stops at process exit). Open remote
 * connections stop answering keepalives and events stop until the next open() restarts it.
 */
export function stopEventLoop(): void {
  native.stopEventLoop();
}

export function eventLoopRunning(): boolean {
  return native.eventLoopRunning();
}

/**
 * Connections and domains this process holds open through the binding (not yet closed, freed or
 * collected): what a caller checks to prove it releases every handle it takes.
 */
export function liveHandleCounts(): { connections: number; domains: number } {
  return native.liveHandleCounts();
}
