// Typed wrapper of one libvirt domain handle (virDomainPtr). Handles are cheap; free() them
// when done (otherwise the GC does). Every method naming a C function runs it off the main
// thread and rejects with a LibvirtError subclass.
import type { DomainState } from '@agentfleet/core';
import {
  DestroyFlags,
  DomainXMLFlags,
  domainStateName,
  ErrorCode,
  MetadataType,
  ModificationImpact,
  QemuMonitorCommandFlags,
  ShutdownFlags,
  type StartFlags,
  UndefineFlags,
} from './constants.js';
import { LibvirtError, withCallerStack } from './errors.js';
import type { NativeDomain } from './native.js';

export interface DomainInfo {
  state: DomainState;
  maxMemKiB: number;
  memoryKiB: number;
  vcpus: number;
  cpuTimeNs: number;
}

export interface UndefineOptions {
  /** VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA: also drop snapshot metadata. */
  snapshotsMetadata?: boolean;
  /** VIR_DOMAIN_UNDEFINE_MANAGED_SAVE: also drop a managed-save image. */
  managedSave?: boolean;
  /** VIR_DOMAIN_UNDEFINE_NVRAM: also delete the UEFI variable store. */
  nvram?: boolean;
}

/** Which definition a metadata change applies to (virDomainModificationImpact). */
export interface MetadataImpact {
  live?: boolean;
  config?: boolean;
}

const impactFlags = (i: MetadataImpact = {}): number =>
  (i.live ? ModificationImpact.Live : 0) | (i.config ? ModificationImpact.Config : 0);

export class Domain {
  /** @internal constructed by Connection. */
  constructor(private readonly native: NativeDomain) {}

  /** virDomainGetName (cached in the handle). */
  get name(): string {
    return this.native.getName();
  }

  /** virDomainGetUUIDString (cached in the handle). */
  get uuid(): string {
    return this.native.getUUIDString();
  }

  /** virDomainFree. Idempotent; using the handle afterwards throws HandleClosedError. */
  free(): void {
    this.native.free();
  }

  /** virDomainCreateWithFlags: boot a defined domain. */
  start(flags: StartFlags | 0 = 0): Promise<void> {
    return withCallerStack(() => this.native.create(flags));
  }

  /** virDomainShutdownFlags: ask the guest to power off (ACPI by default); returns at once. */
  shutdown(flags: ShutdownFlags = ShutdownFlags.Default): Promise<void> {
    return withCallerStack(() => this.native.shutdown(flags));
  }

  /** virDomainDestroyFlags: power off immediately. */
  destroy(flags: DestroyFlags = DestroyFlags.Default): Promise<void> {
    return withCallerStack(() => this.native.destroy(flags));
  }

  /** virDomainReboot. */
  reboot(): Promise<void> {
    return withCallerStack(() => this.native.reboot(0));
  }

  /** virDomainSuspend. */
  suspend(): Promise<void> {
    return withCallerStack(() => this.native.suspend());
  }

  /** virDomainResume. */
  resume(): Promise<void> {
    return withCallerStack(() => this.native.resume());
  }

  /** virDomainUndefineFlags. A running domain becomes transient and vanishes when it stops. */
  undefine(opts: UndefineOptions = {}): Promise<void> {
    const flags =
      (opts.snapshotsMetadata ? UndefineFlags.SnapshotsMetadata : 0) |
      (opts.managedSave ? UndefineFlags.ManagedSave : 0) |
      (opts.nvram ? UndefineFlags.Nvram : 0);
    return withCallerStack(() => this.native.undefine(flags));
  }

  /** virDomainGetInfo. */
  async info(): Promise<DomainInfo> {
    const i = await withCallerStack(() => this.native.getInfo());
    return {
      state: domainStateName(i.state),
      maxMemKiB: i.maxMemKiB,
      memoryKiB: i.memoryKiB,
      vcpus: i.nrVirtCpu,
      cpuTimeNs: i.cpuTimeNs,
    };
  }

  /** virDomainGetState: the state and its driver-specific reason number. */
  async state(): Promise<{ state: DomainState; reason: number }> {
    const s = await withCallerStack(() => this.native.getState());
    return { state: domainStateName(s.state), reason: s.reason };
  }

  /** virDomainGetXMLDesc; `inactive` gives the definition used at next boot. */
  xml(opts: { inactive?: boolean; secure?: boolean; migratable?: boolean } = {}): Promise<string> {
    const flags =
      (opts.inactive ? DomainXMLFlags.Inactive : 0) |
      (opts.secure ? DomainXMLFlags.Secure : 0) |
      (opts.migratable ? DomainXMLFlags.Migratable : 0);
    return withCallerStack(() => this.native.getXMLDesc(flags));
  }

  /** virDomainIsActive. */
  isActive(): Promise<boolean> {
    return withCallerStack(() => this.native.isActive());
  }

  /** virDomainIsPersistent. */
  isPersistent(): Promise<boolean> {
    return withCallerStack(() => this.native.isPersistent());
  }

  /** virDomainGetAutostart. */
  autostart(): Promise<boolean> {
    return withCallerStack(() => this.native.getAutostart());
  }

  /** virDomainSetAutostart: libvirt starts the (persistent) domain when its daemon starts. */
  setAutostart(on: boolean): Promise<void> {
    if (typeof on !== 'boolean') throw new TypeError('setAutostart: on must be a boolean');
    return withCallerStack(() => this.native.setAutostart(on));
  }

  /**
   * virDomainGetMetadata(VIR_DOMAIN_METADATA_ELEMENT): our element under `<metadata>` in the
   * namespace `uri`, or undefined when there is none.
   */
  async metadata(uri: string, impact?: MetadataImpact): Promise<string | undefined> {
    try {
      return await withCallerStack(() =>
        this.native.getMetadata(MetadataType.Element, uri, impactFlags(impact)),
      );
    } catch (err) {
      if (err instanceof LibvirtError && err.code === ErrorCode.NoDomainMetadata) return undefined;
      throw err;
    }
  }

  /**
   * virDomainSetMetadata(VIR_DOMAIN_METADATA_ELEMENT): store `xml` (one element) under
   * `<metadata>` in namespace `uri` with prefix `prefix`; `null` removes it.
   */
  setMetadata(uri: string, prefix: string, xml: string | null, impact?: MetadataImpact): Promise<void> {
    return withCallerStack(() =>
      this.native.setMetadata(
        MetadataType.Element,
        xml,
        xml === null ? null : prefix,
        uri,
        impactFlags(impact),
      ),
    );
  }

  /** virDomainSnapshotCreateXML; resolves to the snapshot's name. */
  createSnapshot(xml: string, flags = 0): Promise<string> {
    return withCallerStack(() => this.native.snapshotCreate(xml, flags));
  }

  /** virDomainListAllSnapshots: snapshot names. */
  listSnapshots(): Promise<string[]> {
    return withCallerStack(() => this.native.snapshotList(0));
  }

  /** virDomainSnapshotGetXMLDesc of the named snapshot. */
  snapshotXml(name: string): Promise<string> {
    return withCallerStack(() => this.native.snapshotGetXMLDesc(name, 0));
  }

  /** virDomainRevertToSnapshot to the named snapshot. */
  revertToSnapshot(name: string, flags = 0): Promise<void> {
    return withCallerStack(() => this.native.snapshotRevert(name, flags));
  }

  /** virDomainSnapshotDelete of the named snapshot. */
  deleteSnapshot(name: string, flags = 0): Promise<void> {
    return withCallerStack(() => this.native.snapshotDelete(name, flags));
  }

  /**
   * virDomainQemuMonitorCommand (libvirt-qemu): a QMP JSON command, or an HMP line with
   * `{ hmp: true }` (e.g. `hostfwd_add` for the user-networking fallback).
   */
  qemuMonitorCommand(command: string, opts: { hmp?: boolean } = {}): Promise<string> {
    const flags = opts.hmp ? QemuMonitorCommandFlags.Hmp : QemuMonitorCommandFlags.Default;
    return withCallerStack(() => this.native.qemuMonitorCommand(command, flags));
  }
}
