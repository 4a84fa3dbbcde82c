// `fleet spice`: where an agent's SPICE display is, as a spice+unix:// URI a viewer opens.
import { isLocalUri } from '@agentfleet/core/ssh/host-ssh';
import { agentSpiceSocket, agentSpiceTunnel } from '@agentfleet/engine/paths';
import { agentHandle, domainOf } from './agent-handle.js';
import type { AppContext } from './context.js';
import { FleetError } from './errors.js';
import { HostAccess } from './host-access.js';
import { openSpiceTunnel } from './spice-tunnel.js';

export interface SpiceDisplay {
  /** spice+unix://<socket>. */
  uri: string;
  /** The local unix socket a viewer opens. */
  socket: string;
  /** The agent's domain (a viewer's title). */
  domain: string;
  /** For a remote agent: its host, whose SSH carries each connection to `socket` until `close`. */
  tunnelHost?: string;
  /** Ends the tunnel (nothing for a local agent). */
  close(): Promise<void>;
}

/**
 * The agent's display. It listens only on a unix socket in a 0700 directory of fleet's user (no
 * TCP port): being able to open that socket is the secret, so no password exists to leak. A
 * remote agent's socket is on its host: a local socket next to where a local one would be carries
 * each connection there through the host's SSH, until `close`.
 */
export async function spiceDisplay(ctx: AppContext, name: string): Promise<SpiceDisplay> {
  const h = agentHandle(ctx, name);
  const domain = domainOf(h);
  const hostUri = h.agent.libvirtUri;
  if (isLocalUri(hostUri)) {
    const socket = agentSpiceSocket(h.stateDir, h.agent.name);
    return { uri: `spice+unix://${socket}`, socket, domain, close: async () => {} };
  }
  const hosts = new HostAccess();
  try {
    const tunnel = await openSpiceTunnel(
      hosts,
      hostUri,
      await liveSpiceSocket(hostUri, domain),
      agentSpiceTunnel(h.stateDir, h.agent.name),
    );
    return {
      uri: `spice+unix://${tunnel.socket}`,
      socket: tunnel.socket,
      domain,
      tunnelHost: hostUri,
      close: async () => {
        await tunnel.close();
        await hosts.closeAll();
      },
    };
  } catch (err) {
    await hosts.closeAll();
    throw err;
  }
}

/** A virt-viewer connection file (`remote-viewer FILE`) for the display. */
export function virtViewerFile(d: SpiceDisplay): string {
  const vv = ['[virt-viewer]', 'type=spice', `unix-path=${d.socket}`, `title=${d.domain}`];
  return `${vv.join('\n')}\n`;
}

/** The socket libvirt made for a running domain's display on its host (the live XML names it). */
async function liveSpiceSocket(uri: string, domain: string): Promise<string> {
  // libvirt's addon loads only here: a local agent's display needs no hypervisor.
  const { Connections } = await import('./connections.js');
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
