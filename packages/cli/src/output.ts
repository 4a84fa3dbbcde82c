// The subpath keeps main.ts (which prints errors) from loading all of core.
import { sanitizeTerminalText } from '@agentfleet/core/terminal-text';
import type { CliContext } from './context.js';
import { interrupted } from './interrupt.js';

/** The --json contract's version; docs/json.md says what a change of it means. */
export const JSON_VERSION = 1;

/** Why a command did not succeed, as scripts read it (docs/json.md lists the codes). */
export interface JsonError {
  code: 'usage' | 'invalid' | 'locked' | 'interrupted' | 'blocked' | 'failed';
  message: string;
  /** What to do about it, when there is something to do. */
  remedy?: string;
}

/**
 * A command's data for the envelope: any fields but the envelope's own, which it may not replace
 * (`ok` it may set: a result that is also a failure).
 */
export type ResultData = Record<string, unknown> & { version?: never; command?: never; error?: never };

/** One envelope for every command's --json output: version, ok, command, then the command's data. */
export function envelope(command: string, data: ResultData, error?: JsonError): Record<string, unknown> {
  // Results that carry their own `ok` (provision, rebuild, secrets rekey) get the envelope's.
  const { ok, ...rest } = data;
  const failure =
    error ??
    (ok === false ? { code: 'failed' as const, message: `${command} failed: see the result` } : undefined);
  return {
    version: JSON_VERSION,
    ok: failure === undefined,
    command,
    ...rest,
    ...(failure && { error: failure }),
  };
}

/**
 * Print a command's result on stdout: the JSON envelope with --json, the human text otherwise.
 * Human text can carry guest output (console lines, failure tails), so it is rendered inert first
 * (JSON escapes control characters itself). `error` marks a result that is also a failure (e.g.
 * `up` where an agent failed): the data is still printed, ok is false, and the caller sets exit code 1.
 */
export function printResult(
  ctx: Pick<CliContext, 'json' | 'command'>,
  human: string,
  data: ResultData,
  error?: JsonError,
): void {
  // After Ctrl-C the interrupt report is the last word; a late result would contradict it.
  if (interrupted()) return;
  process.stdout.write(
    ctx.json
      ? `${JSON.stringify(envelope(ctx.command, data, error), null, 2)}\n`
      : sanitizeTerminalText(human.endsWith('\n') ? human : `${human}\n`),
  );
}

/** A line for the operator on stderr (progress, guest output, errors), rendered inert like results. */
export function printNote(text: string): void {
  process.stderr.write(sanitizeTerminalText(text.endsWith('\n') ? text : `${text}\n`));
}
