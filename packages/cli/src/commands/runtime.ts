import { openRuntime as openAppRuntime, type Runtime, type RuntimeOptions } from '@agentfleet/app/runtime';
import { paletteFor } from '../colour.js';
import type { CliContext } from '../context.js';
import { guardInterrupts } from '../interrupt.js';
import { envelope } from '../output.js';

/** The application's openRuntime with the CLI's Ctrl-C handling for runs that take the lock. */
export function openRuntime(ctx: CliContext, opts: RuntimeOptions): Promise<Runtime> {
  const lock = opts.lock;
  return openAppRuntime(ctx, {
    ...opts,
    ...(lock !== undefined && {
      guard: (release) =>
        guardInterrupts({
          resume: lock,
          release,
          report: (message, remedy) => reportInterrupt(ctx, message, remedy),
        }),
    }),
  });
}

/** The last word of an interrupted run: on stderr for people, as the error envelope with --json. */
export function reportInterrupt(ctx: CliContext, message: string, remedy: string): void {
  const red = paletteFor(process.stderr).red;
  process.stderr.write(`${red('fleet:')} ${message}\n  ${remedy}\n`);
  if (ctx.json) {
    const error = { code: 'interrupted' as const, message, remedy };
    process.stdout.write(`${JSON.stringify(envelope(ctx.command, {}, error), null, 2)}\n`);
  }
}
