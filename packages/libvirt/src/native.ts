// The raw addon surface, positional and untyped flags, exactly as native/*.cc exports it.
// The typed public API (connection.ts, domain.ts) is the only consumer.
import { createRequire } from 'node:module';

/** What the C++ side passes to the error factory (errors.h, LvError::ToJs). */
export interface NativeErrorInfo {
  code: number;
  domain: number;
  level: number;
  message: string;
  func: string;
  connectionLost: boolean;
  fromBinding: boolean;
}

export interface NativeNodeInfo {
  model: string;
  memoryKiB: number;
  cpus: number;
  mhz: number;
  nodes: number;
  sockets: number;
  cores: number;
  threads: number;
}

export interface NativeDomainRow {
  name: string;
  uuid: string;
  id: number;
  state: number;
  reason: number;
  persistent: boolean;
}

export interface NativeDomainInfo {
  state: number;
  maxMemKiB: number;
  memoryKiB: number;
  nrVirtCpu: number;
  cpuTimeNs: number;
}

export interface NativeLifecycleEvent {
  name: string;
  uuid: string;
  event: number;
  detail: number;
}

export interface NativePoolInfo {
  /** virStoragePoolState. */
  state: number;
  capacity: number;
  allocation: number;
  available: number;
  active: boolean;
  persistent: boolean;
  autostart: boolean;
  xml: string;
}

export interface NativeVolInfo {
  name: string;
  path: string;
  key: string;
  /** virStorageVolType. */
  type: number;
  capacity: number;
  allocation: number;
  xml: string;
}

export interface NativeConnection {
  close(): Promise<void>;
  isClosed(): boolean;
  isAlive(): boolean;
  /** virConnectCloseReason from libvirt's close callback; -1 while the transport is up. */
  closeReason(): number;
  getURI(): string;
  getLibVersion(): Promise<number>;
  getVersion(): Promise<number>;
  getHostname(): Promise<string>;
  getCapabilities(): Promise<string>;
  getDomainCapabilities(
    emulator: string | null,
    arch: string | null,
    machine: string | null,
    virttype: string | null,
    flags: number,
  ): Promise<string>;
  getNodeInfo(): Promise<NativeNodeInfo>;
  listAllDomains(flags: number): Promise<NativeDomainRow[]>;
  lookupDomainByName(name: string): Promise<NativeDomain>;
  lookupDomainByUUIDString(uuid: string): Promise<NativeDomain>;
  defineDomain(xml: string, flags: number): Promise<NativeDomain>;
  createDomain(xml: string, flags: number): Promise<NativeDomain>;
  registerLifecycleEvents(callback: (ev: NativeLifecycleEvent) => void): Promise<number>;
  deregisterEvent(callbackId: number): Promise<void>;
  getAllDomainStats(
    types: number,
    flags: number,
  ): Promise<{ name: string; uuid: string; params: Record<string, number | boolean | string> }[]>;
  storagePoolInfo(name: string): Promise<NativePoolInfo>;
  storagePoolDefine(xml: string, flags: number): Promise<string>;
  storagePoolBuild(name: string, flags: number): Promise<void>;
  storagePoolCreate(name: string, flags: number): Promise<void>;
  storagePoolRefresh(name: string, flags: number): Promise<void>;
  /** The flags argument is the autostart switch (1 on, 0 off). */
  storagePoolSetAutostart(name: string, on: number): Promise<void>;
  storagePoolDestroy(name: string): Promise<void>;
  storagePoolUndefine(name: string): Promise<void>;
  storageVolList(pool: string): Promise<string[]>;
  storageVolInfo(pool: string, name: string): Promise<NativeVolInfo>;
  storageVolCreate(
    pool: string,
    xml: string,
    cloneFrom: string | null,
    flags: number,
  ): Promise<NativeVolInfo>;
  storageVolDelete(pool: string, name: string, flags: number): Promise<void>;
  storageVolUpload(
    pool: string,
    name: string,
    file: string,
    length: number,
    onProgress: ((sent: number) => void) | null,
  ): Promise<number>;
}

export interface NativeDomain {
  getName(): string;
  getUUIDString(): string;
  free(): void;
  create(flags: number): Promise<void>;
  shutdown(flags: number): Promise<void>;
  destroy(flags: number): Promise<void>;
  reboot(flags: number): Promise<void>;
  suspend(): Promise<void>;
  resume(): Promise<void>;
  undefine(flags: number): Promise<void>;
  getInfo(): Promise<NativeDomainInfo>;
  getState(): Promise<{ state: number; reason: number }>;
  getXMLDesc(flags: number): Promise<string>;
  isActive(): Promise<boolean>;
  isPersistent(): Promise<boolean>;
  getAutostart(): Promise<boolean>;
  setAutostart(on: boolean): Promise<void>;
  getMetadata(type: number, uri: string | null, flags: number): Promise<string>;
  setMetadata(
    type: number,
    metadata: string | null,
    key: string | null,
    uri: string | null,
    flags: number,
  ): Promise<void>;
  snapshotCreate(xml: string, flags: number): Promise<string>;
  snapshotList(flags: number): Promise<string[]>;
  snapshotGetXMLDesc(name: string, flags: number): Promise<string>;
  snapshotRevert(name: string, flags: number): Promise<void>;
  snapshotDelete(name: string, flags: number): Promise<void>;
  qemuMonitorCommand(cmd: string, flags: number): Promise<string>;
}

export interface NativeAddon {
  open(uri: string | null, flags: number): Promise<NativeConnection>;
  setErrorFactory(factory: (info: NativeErrorInfo) => Error): void;
  getLibraryVersion(): number;
  stopEventLoop(): void;
  eventLoopRunning(): boolean;
  liveHandleCounts(): { connections: number; domains: number };
}

// Same relative path from src/ (tests) and dist/ (built code).
export const native: NativeAddon = createRequire(import.meta.url)('../build/Release/agentfleet_libvirt.node');
