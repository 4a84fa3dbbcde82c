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

export function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError || err instanceof ValidationError) return EXIT_USAGE;
  return EXIT_FAILURE;
}
