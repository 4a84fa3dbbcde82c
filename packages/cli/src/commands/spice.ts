import { spawn } from 'node:child_process';
import { spiceDisplay, virtViewerFile } from '@agentfleet/app/spice';
import { writeFileAtomicSync as writeFileAtomic } from '@agentfleet/atomic-file';
import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { FleetError } from '../errors.js';
import { printNote, printResult } from '../output.js';
import { agentName } from './agent-name.js';

export function registerSpice(program: Command): void {
  program
    .command('spice')
    .description('open the SPICE display of an agent with remote-viewer')
    .argument('<name>', 'agent', agentName)
    .option('--print', 'print the spice+unix:// URI instead of opening a viewer', false)
    .option('--vv <file>', 'write a virt-viewer connection file instead of opening a viewer')
    .action(async (name: string, opts: { print: boolean; vv?: string }, command: Command) => {
      const ctx = contextOf(command);
      const display = await spiceDisplay(ctx, name);
      // remote-viewer without a display only prints a GTK warning: say what to do instead.
      const viewer = !opts.vv && !opts.print && !ctx.json;
      if (viewer && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
        await display.close();
        throw new FleetError(
          'no display to open a viewer on (neither DISPLAY nor WAYLAND_DISPLAY is set)',
          `run \`fleet spice ${name} --print\` for the spice+unix:// URI, or \`fleet spice ${name} --vv FILE\` for a connection file, and open it where a display is (ssh -L can forward the socket)`,
        );
      }
      const { uri, socket } = display;
      const holdTunnel = async () => {
        if (display.tunnelHost === undefined) return;
        printNote(
          `${name}: its display is on ${display.tunnelHost}; ${socket} carries it through that host's SSH while this runs (Ctrl-C ends it)`,
        );
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await display.close();
      };
      if (opts.vv) {
        writeFileAtomic(opts.vv, virtViewerFile(display), 0o600);
        printResult(ctx, `wrote ${opts.vv} (open with: remote-viewer ${opts.vv})`, {
          uri,
          file: opts.vv,
          tunnel: display.tunnelHost !== undefined,
        });
        return holdTunnel();
      }
      if (opts.print || ctx.json) {
        printResult(ctx, uri, { uri, tunnel: display.tunnelHost !== undefined });
        return holdTunnel();
      }
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn('remote-viewer', ['--title', display.domain, uri], { stdio: 'inherit' });
        child.on('error', (err) =>
          reject(new Error(`cannot run remote-viewer (${err.message}); install virt-viewer or use --print`)),
        );
        child.on('exit', (c) => resolve(c ?? 1));
      }).finally(display.close);
      process.exitCode = code;
    });
}
