import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import {
  type HostSnapshot,
  type Hypervisor,
  type ListeningPort,
  resourcesOfDomainXml,
} from '@agentfleet/core';

/** TCP state 0A = LISTEN in /proc/net/tcp{,6}. */
const TCP_LISTEN = '0A';

/** Listening TCP ports of this machine, from /proc/net/tcp and /proc/net/tcp6. */
export function localListeningPorts(): ListeningPort[] {
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue; // no IPv6 on this kernel
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      if (!local || cols[3] !== TCP_LISTEN) continue;
      ports.add(Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16));
    }
  }
  return [...ports].sort((a, b) => a - b).map((port) => ({ port }));
}

/**
 * Snapshot of the local host for `uri`. Only listeners for now: other libvirt domains are
 * added by the engine once the libvirt adapter exists.
 */
export function localHostSnapshot(uri: string): HostSnapshot {
  return { uri, cpus: availableParallelism(), listeningPorts: localListeningPorts(), domains: [] };
}

/** True for URIs naming this machine (no remote host part): only those can be probed from here. */
export function isLocalUri(uri: string): boolean {
  return !/^[a-z0-9]+(\+[a-z0-9]+)?:\/\/[^/]/.test(uri);
}

/**
 * The local snapshot plus every libvirt domain on `uri` with the ports and cores its XML holds,
 * so allocation never hands out what another domain (ours or not) already uses.
 */
export async function hostSnapshotWithDomains(uri: string, hv: Hypervisor): Promise<HostSnapshot> {
  const snapshot = localHostSnapshot(uri);
  for (const d of await hv.listDomains()) {
    const xml = await hv.domainXml(d.name, { inactive: true });
    if (xml) snapshot.domains.push({ name: d.name, ...resourcesOfDomainXml(xml) });
  }
  return snapshot;
}
