// Typed libvirt errors (better-sqlite3 style: classes live in JS, the addon constructs them
// through the factory registered in connection.ts).
import { HypervisorError, type HypervisorErrorKind } from '@agentfleet/core/hypervisor-error';
import { ErrorCode } from './constants.js';
import type { NativeErrorInfo } from './native.js';

/** A failed libvirt call: `code`/`domain` are virErrorNumber/virErrorDomain, `func` the C function. */
export class LibvirtError extends HypervisorError {
  override name = 'LibvirtError';
  readonly code: number;
  readonly domain: number;
  readonly level: number;
  readonly func: string;

  constructor(info: NativeErrorInfo, kind: HypervisorErrorKind = 'other') {
    super(kind, `${info.func}: ${info.message}`);
    this.code = info.code;
    this.domain = info.domain;
    this.level = info.level;
    this.func = info.func;
  }
}

/** VIR_ERR_NO_DOMAIN. */
export class NoSuchDomainError extends LibvirtError {
  override name = 'NoSuchDomainError';
}
/** VIR_ERR_OPERATION_INVALID: wrong state for the request, e.g. starting a running domain. */
export class OperationInvalidError extends LibvirtError {
  override name = 'OperationInvalidError';
}
/** VIR_ERR_DOM_EXIST, or a name/UUID clash on define. */
export class DomainExistsError extends LibvirtError {
  override name = 'DomainExistsError';
}
/** XML or configuration rejected. */
export class InvalidConfigError extends LibvirtError {
  override name = 'InvalidConfigError';
}
/** The connection broke (virConnectIsAlive turned false) while the call was in flight. */
export class ConnectionLostError extends LibvirtError {
  override name = 'ConnectionLostError';
}
/** The Connection was closed, or the Domain handle freed, before the call. */
export class HandleClosedError extends LibvirtError {
  override name = 'HandleClosedError';
}
/** VIR_ERR_OPERATION_DENIED, e.g. a write on a read-only connection. */
export class OperationDeniedError extends LibvirtError {
  override name = 'OperationDeniedError';
}
/** VIR_ERR_NO_DOMAIN_SNAPSHOT. */
export class NoSuchSnapshotError extends LibvirtError {
  override name = 'NoSuchSnapshotError';
}

/** VIR_ERR_NO_STORAGE_POOL. */
export class NoSuchStoragePoolError extends LibvirtError {
  override name = 'NoSuchStoragePoolError';
}
/** VIR_ERR_NO_STORAGE_VOL. */
export class NoSuchStorageVolError extends LibvirtError {
  override name = 'NoSuchStorageVolError';
}
/** VIR_ERR_STORAGE_VOL_EXIST: a volume of that name is already in the pool (libvirt never overwrites it). */
export class StorageVolExistsError extends LibvirtError {
  override name = 'StorageVolExistsError';
}

const invalidConfigCodes = new Set<number>([
  ErrorCode.XmlError,
  ErrorCode.XmlDetail,
  ErrorCode.XmlInvalidSchema,
  ErrorCode.ConfigUnsupported,
  ErrorCode.NoName,
  ErrorCode.NoOs,
]);

/** VIR_FROM_TEST (virErrorDomain). */
const ERROR_DOMAIN_TEST_DRIVER = 12;
/** VIR_FROM_STORAGE. */
const ERROR_DOMAIN_STORAGE = 18;

/** Picks the subclass for an error reported by the addon. */
export function libvirtError(info: NativeErrorInfo): LibvirtError {
  if (info.fromBinding) return new HandleClosedError(info, 'closed');
  if (info.connectionLost) return new ConnectionLostError(info, 'connection-lost');
  switch (info.code) {
    case ErrorCode.NoDomain:
      return new NoSuchDomainError(info, 'no-such-domain');
    case ErrorCode.OperationInvalid:
      return new OperationInvalidError(info, 'operation-invalid');
    case ErrorCode.DomExist:
      return new DomainExistsError(info, 'already-exists');
    case ErrorCode.OperationDenied:
      return new OperationDeniedError(info);
    case ErrorCode.NoDomainSnapshot:
      return new NoSuchSnapshotError(info);
    case ErrorCode.NoStoragePool:
      return new NoSuchStoragePoolError(info);
    case ErrorCode.NoStorageVol:
      return new NoSuchStorageVolError(info);
    case ErrorCode.StorageVolExist:
      return new StorageVolExistsError(info, 'already-exists');
  }
  // libvirt reports a define whose name or UUID clashes with another domain as a generic
  // VIR_ERR_OPERATION_FAILED (virdomainobjlist.c); only the text tells it apart.
  if (info.code === ErrorCode.OperationFailed && /already (exists|defined) with uuid/.test(info.message)) {
    return new DomainExistsError(info, 'already-exists');
  }
  // A volume name already in the pool: the storage driver says VIR_ERR_STORAGE_VOL_EXIST on create but an internal
  // error on a clone ("already in use"), the test driver a generic failure.
  if (
    (info.code === ErrorCode.OperationFailed &&
      info.domain === ERROR_DOMAIN_TEST_DRIVER &&
      /storage vol already exists/.test(info.message)) ||
    (info.code === ErrorCode.InternalError &&
      info.domain === ERROR_DOMAIN_STORAGE &&
      /storage volume name '.*' already in use/.test(info.message))
  ) {
    return new StorageVolExistsError(info, 'already-exists');
  }
  // The test driver reports wrong-state requests as VIR_ERR_INTERNAL_ERROR where the QEMU driver
  // says VIR_ERR_OPERATION_INVALID; classify them alike so both pass one contract.
  if (
    info.code === ErrorCode.InternalError &&
    info.domain === ERROR_DOMAIN_TEST_DRIVER &&
    /already running|not running/.test(info.message)
  ) {
    return new OperationInvalidError(info, 'operation-invalid');
  }
  if (invalidConfigCodes.has(info.code)) return new InvalidConfigError(info, 'invalid-config');
  return new LibvirtError(info);
}

/**
 * Runs a native call with the caller's stack: the addon's rejection is created on a later
 * tick and would otherwise show no JS frames at all.
 */
export function withCallerStack<T>(call: () => Promise<T>): Promise<T> {
  const site: { stack?: string } = {};
  Error.captureStackTrace(site, withCallerStack);
  return call().catch((err: unknown) => {
    if (err instanceof LibvirtError && site.stack) {
      err.stack = `${err.name}: ${err.message}${site.stack.slice(site.stack.indexOf('\n'))}`;
    }
    throw err;
  });
}
