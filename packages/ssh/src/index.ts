export { type ConnectOptions, connectShell, KEEPALIVE } from './connect.js';
export { HostKeyMismatchError, RemoteSignalError, SshConnectError } from './errors.js';
export { type JumpHost, SshJumps } from './jump.js';
export { publicKeyOfPrivateKey } from './keys.js';
export {
  type Dialer,
  type ReadinessProgress,
  type ReadinessStage,
  SshReadinessError,
  type StageOptions,
  type WaitForSshOptions,
  type WaitForSshResult,
  waitForSsh,
} from './readiness.js';
export { DEFAULT_DEADLINES, type ShellDeadlines, SshShell } from './shell.js';
