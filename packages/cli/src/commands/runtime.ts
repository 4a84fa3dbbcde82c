import type { LockHolder } from '@agentfleet/app/provision';
import { paletteFor } from '../colour.js';
import type { CliContext } from '../context.js';
import { guardInterrupts } from '../interrupt.js';
import { envelope } from '../output.js';

/**
 * A run that takes the lock as `holder` (the command line): Ctrl-C releases the lock and says how
 * to resume (the holder, run again).
 */
export function lockHolder(ctx: CliContext, holder: string): Required<LockHolder> {
  return {
    holder,
    guard: (release) =>
      guardInterrupts({
        resume: holder,
        release,
        report: (message, remedy) => reportInterrupt(ctx, message, remedy),
      }),
  };
}

/** The last word of an interrupted run: on stderr for people, as the error envelope with --json. */
function reportInterrupt(ctx: CliContext, message: string, remedy: string): void {
  const red = paletteFor(process.stderr).red;
  process.stderr.write(`${red('fleet:')} ${message}\n  ${remedy}\n`);
  if (ctx.json) {
    const error = { code: 'interrupted' as const, message, remedy };
    process.stdout.write(`${JSON.stringify(envelope(ctx.command, {}, error), null, 2)}\n`);
  }
}
