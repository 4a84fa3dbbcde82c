import { Connections } from '@agentfleet/app/connections';
import { expandPath, readFleet, readLedger } from '@agentfleet/app/fleet-files';
import { type DoctorCheck, runDoctor, tcpListeners } from '@agentfleet/engine';
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
      const fleet = readFleet(ctx.dir);
      const ledger = readLedger(ctx.dir);
      const allocatedPorts = new Set(
        Object.values(ledger.hosts).flatMap((agents) =>
          Object.values(agents).flatMap((a) => [a.sshPort, a.spicePort]),
        ),
      );
      const connections = new Connections();
      let checks: DoctorCheck[];
      try {
        checks = await runDoctor(
          {
            fleet,
            fleetDir: ctx.dir,
            stateDir: expandPath(ctx.dir, fleet.config.stateDir),
            baseImage: expandPath(ctx.dir, fleet.config.baseImage),
            identityFile: expandPath(ctx.dir, fleet.config.ssh.identityFile),
            allocatedPorts,
          },
          { connect: connections.connect, path: process.env.PATH ?? '', listeners: tcpListeners },
        );
      } finally {
        await connections.closeAll();
      }
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
