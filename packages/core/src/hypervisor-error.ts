// Driver-independent classification of hypervisor failures, so the engine can branch on what
// went wrong (e.g. "no such domain" means "not created yet") without importing an adapter.

export type HypervisorErrorKind =
  /** The named domain does not exist. */
  | 'no-such-domain'
  /** The domain is in the wrong state for the request (e.g. start while running). */
  | 'operation-invalid'
  /** A domain with that name or UUID already exists and conflicts. */
  | 'already-exists'
  /** The XML or configuration was rejected. */
  | 'invalid-config'
  /** The connection to the hypervisor broke while the call was in flight. */
  | 'connection-lost'
  /** The handle was closed by this process before the call. */
  | 'closed'
  | 'other';

export class HypervisorError extends Error {
  override name = 'HypervisorError';
  constructor(
    readonly kind: HypervisorErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `err` is a HypervisorError of the given kind. */
export function isHypervisorError(err: unknown, kind?: HypervisorErrorKind): err is HypervisorError {
  return err instanceof HypervisorError && (kind === undefined || err.kind === kind);
}
