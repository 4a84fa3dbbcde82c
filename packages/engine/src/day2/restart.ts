import { allocationOf, type GuestNetworks, type Hypervisor } from '@agentfleet/core';
import { agentDomain, type FleetRun, selectedAgents } from '../fleet-run.js';
import type { EngineLog } from '../log.js';
import { agentPasstSocketOn } from '../paths.js';
import { mapLimit } from '../pool.js';
import { requireRunning } from './power.js';
import { type AgentShells, runOnce } from './shells.js';

export interface RestartDeps {
  connect(uri: string): Promise<Hypervisor>;
  networks: GuestNetworks;
  shells: AgentShells;
  log: EngineLog;
  /** A line of progress for people (stderr). */
  note(agent: string, message: string): void;
}

export interface RestartOptions {
  concurrency: number;
  /** How long the guest gets to go down after the ACPI request before it is reset (default: fleet's shutdownSeconds). */
  shutdownSeconds?: number;
  pollMs?: number;
}

export interface RestartOutcome {
  agent: string;
  ok: boolean;
  /** The guest ignored the ACPI request (or could not be asked over SSH) and was powered off and started. */
  forced?: boolean;
  /** The guest's boot id after the restart (differs from the one before: proof of a new boot). */
  bootId?: string;
  error?: string;
}

const BOOT_ID = 'cat /proc/sys/kernel/random/boot_id';

/**
 * `fleet restart`: an ACPI reboot of each agent (libvirt keeps the QEMU process, so the agent's passt, pin and
 * ports stay), proven by the guest's boot id changing, then SSH ready again with the pinned key. A guest that
 * still runs the same boot after `shutdownSeconds` is powered off and started.
 */
export async function restartAgents(
  run: FleetRun,
  agents: readonly string[],
  deps: RestartDeps,
  opts: RestartOptions,
): Promise<RestartOutcome[]> {
  return mapLimit(agents, opts.concurrency, async (agent) => {
    try {
      return { agent, ok: true, ...(await restartOne(run, agent, deps, opts)) };
    } catch (err) {
      deps.log.warn({ agent, err: (err as Error).message }, 'restart failed');
      return { agent, ok: false, error: (err as Error).message };
    }
  });
}

async function restartOne(run: FleetRun, agent: string, deps: RestartDeps, opts: RestartOptions) {
  // Something outside the fleet holds a port or core of this agent: a forced restart could not get it back.
  const held = run.held?.[agent];
  if (held) throw new Error(held.join('\n'));
  await requireRunning(run, deps.connect, agent);
  const spec = selectedAgents({ ...run, names: [agent] })[0];
  if (!spec) throw new Error(`no agent named '${agent}'`);
  const hv = await deps.connect(spec.libvirtUri);
  const domain = agentDomain(run, agent);
  const bootId = async () => (await runOnce(deps.shells, agent, BOOT_ID)).stdout.trim();
  const before = await bootId().catch((err: Error) => {
    deps.log.warn({ agent, err: err.message }, 'boot id unreadable before restart');
    return undefined;
  });
  let forced = before === undefined;
  if (before !== undefined) {
    deps.note(agent, 'ACPI reboot requested');
    await hv.reboot(domain);
    const seconds = opts.shutdownSeconds ?? run.fleet.config.bootTimeouts.shutdownSeconds;
    const deadline = Date.now() + seconds * 1000;
    // Down (SSH refused/lost) or already back with a new boot id: the guest took the request.
    while ((await bootId().catch(() => 'down')) === before) {
      if (Date.now() > deadline) {
        forced = true;
        break;
      }
      await sleep(opts.pollMs ?? 1000);
    }
  }
  if (forced) {
    deps.note(
      agent,
      before === undefined
        ? 'SSH did not answer: powering off and starting'
        : 'ACPI reboot timed out: powering off and starting',
    );
    await hv.destroy(domain).catch(() => {});
    // passt outlives QEMU (it serves the socket, not the process), but may have died with the guest's host.
    const alloc = allocationOf(run.ledger, spec.libvirtUri, agent);
    if (spec.network === 'isolated' && alloc) {
      await deps.networks.ensure({
        agent,
        uri: spec.libvirtUri,
        socketPath: agentPasstSocketOn(run.stateDir, run.ledger.fleetId, spec.libvirtUri, agent),
        sshPort: alloc.sshPort,
      });
    }
    await hv.start(domain);
  }
  deps.note(agent, 'waiting for SSH');
  const after = (await runOnce(deps.shells, agent, BOOT_ID, { waitReady: true })).stdout.trim();
  if (before !== undefined && after === before) {
    throw new Error(
      `agent ${agent} answered with the same boot id after the reboot request: it did not restart`,
    );
  }
  return { forced, bootId: after };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
