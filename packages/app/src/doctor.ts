import { type DoctorCheck, runDoctor, tcpListeners } from '@agentfleet/engine';
import { Connections } from './connections.js';
import type { AppContext } from './context.js';
import { expandPath, readFleet, readLedger } from './fleet-files.js';

/**
 * `fleet doctor`: what this machine has of what the fleet needs (libvirt, KVM, tools, keys, base
 * image, ports, disk), one check each; `path` is where tools are looked for (the CLI: $PATH).
 */
export async function checkFleetHost(ctx: AppContext, path: string): Promise<DoctorCheck[]> {
  const fleet = readFleet(ctx.dir);
  const ledger = readLedger(ctx.dir);
  const allocatedPorts = new Set(
    Object.values(ledger.hosts).flatMap((agents) =>
      Object.values(agents).flatMap((a) => [a.sshPort, a.spicePort]),
    ),
  );
  const connections = new Connections();
  try {
    return await runDoctor(
      {
        fleet,
        fleetDir: ctx.dir,
        stateDir: expandPath(ctx.dir, fleet.config.stateDir),
        baseImage: expandPath(ctx.dir, fleet.config.baseImage),
        identityFile: expandPath(ctx.dir, fleet.config.ssh.identityFile),
        allocatedPorts,
      },
      { connect: connections.connect, path, listeners: tcpListeners },
    );
  } finally {
    await connections.closeAll();
  }
}
