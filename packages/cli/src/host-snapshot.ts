import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { HostSnapshot, ListeningPort } from '@agentfleet/core';

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
