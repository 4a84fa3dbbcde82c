import type { Hypervisor } from '@agentfleet/core';
import { under, xmlElements } from '@agentfleet/core/xml-dom';
import { agentDomain, type FleetRun, selectedAgents } from '../fleet-run.js';
import { requireRunning } from './power.js';

/** The byte that detaches `fleet console` (Ctrl-], as in telnet and virsh console). */
export const CONSOLE_DETACH_BYTE = 0x1d;

export class NoConsolePtyError extends Error {
  override name = 'NoConsolePtyError';
}

/**
 * The host pty of the running domain's first serial port, as libvirt reports it in the live XML
 * (`<serial type='pty'><source path='/dev/pts/N'/>`); undefined when the serial is not a pty.
 */
export function serialPtyPath(liveXml: string): string | undefined {
  for (const el of xmlElements(liveXml)) {
    if (el.localName !== 'source' || !under(el, 'serial', 'devices', 'domain')) continue;
    const path = el.getAttribute('path');
    if (el.parentNode?.getAttribute('type') === 'pty' && path) return path;
  }
  return undefined;
}

/**
 * `fleet console`: where to attach. The agent must be running and its libvirt host this machine (the pty is
 * a local device); a domain defined before fleet made serials ptys needs a `fleet up` (redefine + restart).
 */
export async function agentConsolePty(
  run: FleetRun,
  connect: (uri: string) => Promise<Hypervisor>,
  agent: string,
): Promise<string> {
  await requireRunning(run, connect, agent);
  const spec = selectedAgents({ ...run, names: [agent] })[0];
  if (spec && /^[a-z0-9+.-]+:\/\/[^/]/.test(spec.libvirtUri)) {
    throw new NoConsolePtyError(
      `agent ${agent} runs on ${spec.libvirtUri}: its console pty is on that host (there: virsh console ${agentDomain(run, agent)})`,
    );
  }
  const hv = await connect(spec?.libvirtUri ?? '');
  const xml = await hv.domainXml(agentDomain(run, agent));
  const path = xml === undefined ? undefined : serialPtyPath(xml);
  if (!path) {
    throw new NoConsolePtyError(
      `agent ${agent}'s serial console is not a pty (its domain predates interactive consoles): run \`fleet up ${agent}\` to redefine and restart it`,
    );
  }
  return path;
}
