import type { Diagnostic, Fleet } from '@agentfleet/core';
import { formatDiagnostic } from '@agentfleet/core/diagnostics';

// Errors every front-end maps (the CLI: usage and invalid to exit code 2 and the JSON codes
// `usage`/`invalid`, a FleetError to exit code 1 with its remedy).

/** The caller asked for something that cannot mean anything (unknown agent, bad option value). */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    /** What to run or change instead. */
    readonly remedy?: string,
  ) {
    super(message);
  }
}

/** The operation itself failed (host, libvirt, ssh, an editor...); `remedy` says what to do. */
export class FleetError extends Error {
  override name = 'FleetError';
  constructor(
    message: string,
    readonly remedy?: string,
  ) {
    super(message);
  }
}

/** The user's files are invalid; carries every diagnostic found. */
export class ValidationError extends Error {
  override name = 'ValidationError';
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
  }
}

/** Names the agents asked for that `fleet` does not declare, and lists those it does. */
export function noAgentNamed(unknown: readonly string[], fleet: Pick<Fleet, 'agents'>): UsageError {
  return new UsageError(
    `no agent named ${unknown.map((n) => `'${n}'`).join(', ')} (agents: ${fleet.agents.map((a) => a.name).join(', ') || 'none'})`,
  );
}
