import { spawn } from 'node:child_process';
import { HostAccess } from '@agentfleet/app/host-access';
import { writeFileAtomicSync as writeFileAtomic } from '@agentfleet/atomic-file';
import { isLocalUri } from '@agentfleet/core/ssh/host-ssh';
import { agentSpiceSocket, agentSpiceTunnel } from '@agentfleet/engine/paths';
import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { FleetError } from '../errors.js';
import { printNote, printResult } from '../output.js';
import { agentHandle, domainOf } from './agent-files.js';
import { agentName } from './agent-name.js';
import { openSpiceTunnel } from './spice-tunnel.js';

export function registerSpice(program: Command): void {
  program
    .command('spice')
    .description('open the SPICE display of an agent with remote-viewer')
    .argument('<name>', 'agent', agentName)
    .option('--print', 'print the spice+unix:// URI instead of opening a viewer', false)
    .option('--vv <file>', 'write a virt-viewer connection file instead of opening a viewer')
    .action(async (name: string, opts: { print: boolean; vv?: string }, command: Command) => {
      const ctx = contextOf(command);
      const h = agentHandle(ctx, name);
      // The display listens only on a unix socket in a 0700 directory of fleet's user (no TCP port):
      // being able to open that socket is the secret, so no password exists to leak.
      const display = agentSpiceSocket(h.stateDir, h.agent.name);
      const hostUri = h.agent.libvirtUri;
      // remote-viewer without a display only prints a GTK warning: say what to do instead.
      const viewer = !opts.vv && !opts.print && !ctx.json;
      if (viewer && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
        throw new FleetError(
          'no display to open a viewer on (neither DISPLAY nor WAYLAND_DISPLAY is set)',
          `run \`fleet spice ${name} --print\` for the spice+unix:// URI, or \`fleet spice ${name} --vv FILE\` for a connection file, and open it where a display is (ssh -L can forward the socket)`,
        );
      }
      // A remote agent's socket is on its host: a local socket next to where a local one would be carries each
      // connection there through the host's SSH, for as long as this command runs.
      const hosts = isLocalUri(hostUri) ? undefined : new HostAccess();
      const tunnel = hosts
        ? await openSpiceTunnel(
            hosts,
            hostUri,
            await liveSpiceSocket(hostUri, domainOf(h)),
            agentSpiceTunnel(h.stateDir, h.agent.name),
          ).catch(async (err: unknown) => {
            await hosts.closeAll();
            throw err;
          })
        : undefined;
      const socket = tunnel?.socket ?? display;
      const uri = `spice+unix://${socket}`;
      const holdTunnel = async () => {
        if (!tunnel || !hosts) return;
        printNote(
          `${name}: its display is on ${hostUri}; ${socket} carries it through that host's SSH while this runs (Ctrl-C ends it)`,
        );
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await tunnel.close();
        await hosts.closeAll();
      };
      if (opts.vv) {
        const vv = ['[virt-viewer]', 'type=spice', `unix-path=${socket}`, `title=${domainOf(h)}`];
        writeFileAtomic(opts.vv, `${vv.join('\n')}\n`, 0o600);
        printResult(ctx, `wrote ${opts.vv} (open with: remote-viewer ${opts.vv})`, {
          uri,
          file: opts.vv,
          tunnel: tunnel !== undefined,
        });
        return holdTunnel();
      }
      if (opts.print || ctx.json) {
        printResult(ctx, uri, { uri, tunnel: tunnel !== undefined });
        return holdTunnel();
      }
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn('remote-viewer', ['--title', domainOf(h), uri], { stdio: 'inherit' });
        child.on('error', (err) =>
          reject(new Error(`cannot run remote-viewer (${err.message}); install virt-viewer or use --print`)),
        );
        child.on('exit', (c) => resolve(c ?? 1));
      }).finally(async () => {
        await tunnel?.close();
        await hosts?.closeAll();
      });
      process.exitCode = code;
    });
}

/** The socket libvirt made for a running domain's display on its host (the live XML names it). */
async function liveSpiceSocket(uri: string, domain: string): Promise<string> {
  const { Connections } = await import('@agentfleet/app/connections');
  const connections = new Connections();
  try {
    const xml = await (await connections.connect(uri)).domainXml(domain);
    const socket = /<graphics type='spice'[^>]*>\s*<listen type='socket' socket='([^']+)'/.exec(
      xml ?? '',
    )?.[1];
    if (xml === undefined || socket === undefined) {
      throw new FleetError(
        `${domain} on ${uri} has no SPICE display socket${xml === undefined ? ' (no such domain)' : ''}`,
        'is the agent running? (`fleet status`, `fleet up`)',
      );
    }
    return socket;
  } finally {
    await connections.closeAll();
  }
}
