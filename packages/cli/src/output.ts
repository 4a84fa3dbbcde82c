import type { CliContext } from './context.js';

/** Print a command's result on stdout: JSON with --json, the human text otherwise. */
export function printResult(ctx: Pick<CliContext, 'json'>, human: string, json: unknown): void {
  process.stdout.write(
    ctx.json ? `${JSON.stringify(json, null, 2)}\n` : human.endsWith('\n') ? human : `${human}\n`,
  );
}
