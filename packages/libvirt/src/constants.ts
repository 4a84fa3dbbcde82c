// libvirt's numeric enums and flags, named as in the C headers (libvirt-domain.h,
// libvirt-host.h, libvirt-domain-snapshot.h, libvirt-qemu.h, virterror.h).
import type { DomainState } from '@agentfleet/core';

/** virDomainState. */
export enum DomainStateCode {
  NoState = 0,
  Running = 1,
  Blocked = 2,
  Paused = 3,
  Shutdown = 4,
  Shutoff = 5,
  Crashed = 6,
  PmSuspended = 7,
}

const stateNames: readonly DomainState[] = [
  'nostate',
  'running',
  'blocked',
  'paused',
  'shutdown',
  'shutoff',
  'crashed',
  'pmsuspended',
];

/** A virDomainState number as the state name core uses. */
export function domainStateName(code: number): DomainState {
  return stateNames[code] ?? 'nostate';
}

/** virConnectFlags. */
export enum ConnectFlags {
  ReadOnly = 1 << 0,
  NoAliases = 1 << 1,
}

/** virConnectCloseReason, by name: why libvirt closed a connection under its user. */
export type ConnectionCloseReason = 'error' | 'eof' | 'keepalive' | 'client';

const closeReasons: readonly ConnectionCloseReason[] = ['error', 'eof', 'keepalive', 'client'];

/** A virConnectCloseReason number as its name; undefined for the binding's "still open" (-1). */
export function closeReasonName(code: number): ConnectionCloseReason | undefined {
  return closeReasons[code];
}

/** virConnectListAllDomainsFlags. */
export enum ListDomainsFlags {
  Active = 1 << 0,
  Inactive = 1 << 1,
  Persistent = 1 << 2,
  Transient = 1 << 3,
  Running = 1 << 4,
  Paused = 1 << 5,
  Shutoff = 1 << 6,
  Other = 1 << 7,
}

/** virDomainXMLFlags. */
export enum DomainXMLFlags {
  Secure = 1 << 0,
  Inactive = 1 << 1,
  UpdateCpu = 1 << 2,
  Migratable = 1 << 3,
}

/** virDomainDefineFlags. */
export enum DefineFlags {
  Validate = 1 << 0,
}

/** virDomainCreateFlags. */
export enum StartFlags {
  Paused = 1 << 0,
  AutoDestroy = 1 << 1,
  BypassCache = 1 << 2,
  ForceBoot = 1 << 3,
  Validate = 1 << 4,
  ResetNvram = 1 << 5,
}

/** virDomainShutdownFlagValues. */
export enum ShutdownFlags {
  Default = 0,
  AcpiPowerButton = 1 << 0,
  GuestAgent = 1 << 1,
  Initctl = 1 << 2,
  Signal = 1 << 3,
  Paravirt = 1 << 4,
}

/** virDomainDestroyFlagsValues. */
export enum DestroyFlags {
  Default = 0,
  Graceful = 1 << 0,
  RemoveLogs = 1 << 1,
}

/** virDomainUndefineFlagsValues. */
export enum UndefineFlags {
  ManagedSave = 1 << 0,
  SnapshotsMetadata = 1 << 1,
  Nvram = 1 << 2,
  KeepNvram = 1 << 3,
  CheckpointsMetadata = 1 << 4,
  Tpm = 1 << 5,
  KeepTpm = 1 << 6,
}

/** virDomainMetadataType. */
export enum MetadataType {
  Description = 0,
  Title = 1,
  Element = 2,
}

/** virDomainModificationImpact. */
export enum ModificationImpact {
  Current = 0,
  Live = 1 << 0,
  Config = 1 << 1,
}

/** virDomainSnapshotCreateFlags. */
export enum SnapshotCreateFlags {
  Redefine = 1 << 0,
  Current = 1 << 1,
  NoMetadata = 1 << 2,
  Halt = 1 << 3,
  DiskOnly = 1 << 4,
  ReuseExt = 1 << 5,
  Quiesce = 1 << 6,
  Atomic = 1 << 7,
  Live = 1 << 8,
  Validate = 1 << 9,
}

/** virDomainSnapshotRevertFlags. */
export enum SnapshotRevertFlags {
  Running = 1 << 0,
  Paused = 1 << 1,
  Force = 1 << 2,
}

/** virDomainSnapshotDeleteFlags. */
export enum SnapshotDeleteFlags {
  Children = 1 << 0,
  MetadataOnly = 1 << 1,
  ChildrenOnly = 1 << 2,
}

/** virDomainEventType: what a lifecycle event reports. */
export enum LifecycleEventType {
  Defined = 0,
  Undefined = 1,
  Started = 2,
  Suspended = 3,
  Resumed = 4,
  Stopped = 5,
  Shutdown = 6,
  PmSuspended = 7,
  Crashed = 8,
}

/** virDomainQemuMonitorCommandFlags. */
export enum QemuMonitorCommandFlags {
  Default = 0,
  Hmp = 1 << 0,
}

/** The virErrorNumber values the binding classifies (virterror.h). */
export enum ErrorCode {
  InternalError = 1,
  NoSupport = 3,
  NoConnect = 5,
  InvalidConn = 6,
  InvalidDomain = 7,
  InvalidArg = 8,
  OperationFailed = 9,
  NoName = 21,
  NoOs = 22,
  XmlError = 27,
  DomExist = 28,
  OperationDenied = 29,
  XmlDetail = 35,
  SystemError = 38,
  Rpc = 39,
  NoDomain = 42,
  NoStoragePool = 49,
  NoStorageVol = 50,
  AuthFailed = 45,
  OperationInvalid = 55,
  ConfigUnsupported = 67,
  NoDomainSnapshot = 72,
  NoDomainMetadata = 80,
  OperationUnsupported = 84,
  StorageVolExist = 90,
  XmlInvalidSchema = 92,
}

/** libvirt packs versions as major * 1,000,000 + minor * 1,000 + release. */
export function formatVersion(packed: number): string {
  return `${Math.floor(packed / 1_000_000)}.${Math.floor(packed / 1000) % 1000}.${packed % 1000}`;
}
