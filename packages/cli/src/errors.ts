import { constants } from 'node:os';
import type { Diagnostic } from '@agentfleet/core';
import { formatDiagnostic } from '@agentfleet/core/diagnostics';

/** Exit codes the CLI promises: 0 ok, 1 failure, 2 usage or invalid input. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The user asked for something that cannot mean anything (unknown agent, bad option value). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The user's files are invalid; carries every diagnostic found. */
export class ValidationError extends Error {
  override name = 'ValidationError';
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
  }
}

/** The operation itself failed (host, libvirt, ssh...). */
export class FleetError extends Error {
  override name = 'FleetError';
}

/** A signal ended the command after it cleaned up (e.g. wiped a decrypted file); nothing was changed. */
export class InterruptedError extends FleetError {
  override name = 'InterruptedError';
  constructor(
    readonly signal: NodeJS.Signals,
    what: string,
  ) {
    super(`interrupted by ${signal}: ${what}`);
  }
}

export function exitCodeOf(err: unknown): number {
  // The shell convention for a process ended by a signal (130 for SIGINT).
  if (err instanceof InterruptedError) return 128 + constants.signals[err.signal];
  if (err instanceof UsageError || err instanceof ValidationError) return EXIT_USAGE;
  return EXIT_FAILURE;
}
