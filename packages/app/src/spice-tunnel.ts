import { chmod, mkdir, rm } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { dirname } from 'node:path';
import type { Duplex } from 'node:stream';
import { FleetError } from './errors.js';
import type { HostAccess } from './host-access.js';

export interface SpiceTunnel {
  /** The local socket a SPICE client opens (spice+unix://...). */
  socket: string;
  close(): Promise<void>;
}

/**
 * A local unix socket whose every connection is carried to `remoteSocket` on `uri`'s host through its SSH (a
 * direct-streamlocal channel on fleet's session to the host): a remote agent's display, which listens only on a
 * unix socket there. The socket sits in the agent's 0700 run directory, as a local agent's display does.
 */
export async function openSpiceTunnel(
  hosts: HostAccess,
  uri: string,
  remoteSocket: string,
  socket: string,
): Promise<SpiceTunnel> {
  await mkdir(dirname(socket), { recursive: true, mode: 0o700 });
  await chmod(dirname(socket), 0o700);
  if (await answers(socket)) {
    throw new FleetError(
      `a SPICE tunnel is already open at ${socket} (another \`fleet spice\`)`,
      `use spice+unix://${socket} while that one runs, or stop it first`,
    );
  }
  await rm(socket, { force: true }); // left by a tunnel that was killed
  // The display must answer through the host before its tunnel is offered.
  try {
    (await hosts.dialUnix(uri, remoteSocket)).destroy();
  } catch (err) {
    throw new FleetError(
      `the display socket ${remoteSocket} on ${uri} does not answer through that host's SSH (${(err as Error).message})`,
      "is the agent running? (`fleet status`); the host's sshd must allow stream-local forwarding (AllowStreamLocalForwarding, on by default)",
    );
  }
  const open = new Set<Duplex>();
  const server = createServer((local) => {
    open.add(local);
    local.on('close', () => open.delete(local));
    local.on('error', () => local.destroy());
    hosts.dialUnix(uri, remoteSocket).then(
      (remote) => {
        if (local.destroyed) return remote.destroy();
        open.add(remote);
        remote.on('close', () => open.delete(remote));
        remote.on('error', () => remote.destroy());
        local.pipe(remote).on('close', () => local.destroy());
        remote.pipe(local);
        local.on('close', () => remote.destroy());
        remote.on('close', () => local.destroy());
      },
      () => local.destroy(),
    );
  });
  await listen(server, socket);
  await chmod(socket, 0o600);
  return {
    socket,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const c of open) c.destroy();
      await closed;
      await rm(socket, { force: true });
    },
  };
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
