/** The server presented a host key other than the pinned one. Never retried, never overridden here. */
export class HostKeyMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostKeyMismatchError';
  }
}

/** Connecting or logging in failed; `who` and `address` say where. */
export class SshConnectError extends Error {
  constructor(
    message: string,
    readonly who: string,
    readonly address: string,
    readonly authFailed: boolean,
  ) {
    super(message);
    this.name = 'SshConnectError';
  }
}

/** A remote command ended by a signal rather than with an exit code. */
export class RemoteSignalError extends Error {
  constructor(
    readonly command: string,
    readonly signal: string,
  ) {
    super(`remote command killed by signal ${signal}: ${command}`);
    this.name = 'RemoteSignalError';
  }
}
