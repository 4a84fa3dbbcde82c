import { constants } from 'node:os';
import { FleetError, noAgentNamed, UsageError, ValidationError } from '@agentfleet/app/errors';
import { FleetLockedError } from '@agentfleet/engine/adapters/lock';
import type { JsonError } from './output.js';

// The application's errors, which this module maps to exit codes and JSON error codes.
export { FleetError, noAgentNamed, UsageError, ValidationError };

/** Exit codes the CLI promises (docs/json.md): 0 ok, 1 failure, 2 usage or invalid input. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

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
