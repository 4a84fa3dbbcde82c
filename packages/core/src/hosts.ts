// fleet.yaml `hosts`: the libvirt hosts a fleet spans, by name.
import type { FleetConfig } from './model.js';

/** The fleet.yaml host whose URI is `uri`, if any. */
export function hostOfUri(config: FleetConfig, uri: string): string | undefined {
  return Object.entries(config.hosts).find(([, h]) => h.uri === uri)?.[0];
}

/** Cores no agent may pin on `uri`: its host's reservedCores, else the fleet's. */
export function reservedCoresOn(config: FleetConfig, uri: string): number[] {
  const host = hostOfUri(config, uri);
  return host === undefined
    ? config.reservedCores
    : (config.hosts[host]?.reservedCores ?? config.reservedCores);
}

/** Every URI the fleet may run agents on: its hosts' and the ones agents name, sorted. */
export function fleetUris(config: FleetConfig, agentUris: Iterable<string>): string[] {
  return [...new Set([...Object.values(config.hosts).map((h) => h.uri), ...agentUris])].sort();
}
