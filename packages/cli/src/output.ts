// The subpath keeps main.ts (which prints errors) from loading all of core.
import { sanitizeTerminalText } from '@agentfleet/core/terminal-text';
import type { CliContext } from './context.js';

/**
 * Print a command's result on stdout: JSON with --json, the human text otherwise. Human text can
 * carry guest output (console lines, failure tails), so it is rendered inert first (JSON escapes
 * control characters itself).
 */
export function printResult(ctx: Pick<CliContext, 'json'>, human: string, json: unknown): void {
  process.stdout.write(
    ctx.json
      ? `${JSON.stringify(json, null, 2)}\n`
      : sanitizeTerminalText(human.endsWith('\n') ? human : `${human}\n`),
  );
}

/** A line for the operator on stderr (progress, guest output, errors), rendered inert like results. */
export function printNote(text: string): void {
  process.stderr.write(sanitizeTerminalText(text.endsWith('\n') ? text : `${text}\n`));
}
