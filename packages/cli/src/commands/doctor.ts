import { checkFleetHost } from '@agentfleet/app/doctor';
import type { Command } from 'commander';
import { paletteFor } from '../colour.js';
import { contextOf } from '../context.js';
import { EXIT_FAILURE } from '../errors.js';
import { printResult } from '../output.js';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'check this machine has what the fleet needs (libvirt, KVM, tools, keys, base image, ports, disk)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  fleet doctor\n  fleet --json doctor | jq \'.checks[] | select(.status != "ok")\'',
    )
    .action(async (_opts, command: Command) => {
      const ctx = contextOf(command);
      const checks = await checkFleetHost(ctx, process.env.PATH ?? '');
      const failed = checks.filter((c) => c.status === 'fail');
      const c = paletteFor(process.stdout);
      const mark = { ok: c.green('ok  '), warn: c.yellow('warn'), fail: c.red('fail') };
      const width = Math.max(...checks.map((x) => x.check.length));
      const human = checks
        .map(
          (x) =>
            `${mark[x.status]}  ${x.check.padEnd(width)}  ${x.detail}${x.remedy ? `\n      ${' '.repeat(width)}  ${c.dim(`-> ${x.remedy}`)}` : ''}`,
        )
        .join('\n');
      printResult(
        ctx,
        human,
        { checks },
        failed.length > 0
          ? {
              code: 'failed',
              message: `${failed.length} check(s) failed: ${failed.map((x) => x.check).join(', ')}`,
            }
          : undefined,
      );
      if (failed.length > 0) process.exitCode = EXIT_FAILURE;
    });
}
