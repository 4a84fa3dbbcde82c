import { constants } from 'node:os';
import type { Diagnostic } from '@agentfleet/core';
import { formatDiagnostic } from '@agentfleet/core/diagnostics';
import { FleetLockedError } from '@agentfleet/engine/adapters/lock';
import type { JsonError } from './output.js';

/** Exit codes the CLI promises (docs/json.md): 0 ok, 1 failure, 2 usage or invalid input. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The user asked for something that cannot mean anything (unknown agent, bad option value). */
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
  constructor(
    message: string,
    readonly remedy?: string,
  ) {
    super(message);
  }
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

/**
 * An error as the --json envelope carries it. With `command` (`up`, `secrets add`), a usage or
 * validation error without a remedy of its own gets the general one (the command's help, `fleet
 * validate`): scripts read `remedy` as a field, while the human message already says it in words.
 */
export function jsonErrorOf(err: unknown, command?: string): JsonError {
  const message = err instanceof Error ? err.message : String(err);
  // Any layer's error may carry a remedy (the engine's do: MissingBaseImageError, ...).
  const carried = (err as { remedy?: unknown } | undefined)?.remedy;
  const remedy =
    typeof carried === 'string'
      ? carried
      : command === undefined
        ? undefined
        : err instanceof UsageError
          ? `see \`${command === 'fleet' ? 'fleet' : `fleet ${command}`} --help\``
          : err instanceof ValidationError
            ? 'fix the field each diagnostic names (file:line:column), then check with `fleet validate`'
            : undefined;
  const code: JsonError['code'] =
    err instanceof ValidationError
      ? 'invalid'
      : err instanceof UsageError
        ? 'usage'
        : err instanceof FleetLockedError
          ? 'locked'
          : 'failed';
  return { code, message, ...(remedy !== undefined && { remedy }) };
}
