import type { Ledger } from './ledger.js';

/**
 * Warnings for cores that carry vCPUs of two or more agents (or two vCPUs of one agent) while another core the
 * fleet may use carries none: TCG guests there take turns on one core while the other idles. `allocate` never does
 * this to new agents; recorded ledger entries and explicit `cores:` can, because they never move.
 */
export function coreSpreadWarnings(
  ledger: Ledger,
  host: { uri: string; cpus: number },
  reservedCores: readonly number[],
  ledgerFile: string,
): string[] {
  const entries = Object.entries(ledger.hosts[host.uri] ?? {});
  const usable = Array.from({ length: host.cpus }, (_, c) => c).filter((c) => !reservedCores.includes(c));
  const pinned = new Map<number, string[]>(usable.map((c) => [c, []]));
  for (const [agent, alloc] of entries) for (const c of alloc.cores) pinned.get(c)?.push(agent);
  const idle = usable.filter((c) => pinned.get(c)?.length === 0);
  if (idle.length === 0) return [];
  const out: string[] = [];
  for (const [core, agents] of pinned) {
    if (agents.length < 2) continue;
    const names = [...new Set(agents)];
    out.push(
      `on ${host.uri}, core ${core} carries ${agents.length} vCPUs (${names.join(', ')}) while core ` +
        `${idle.join(', ')} has none: they take turns on one core while another idles. Allocations never move ` +
        `once recorded; to spread them, set cores: in their YAML, or delete their entries from ${ledgerFile} ` +
        `(while their domains are undefined) and run 'fleet allocate'`,
    );
  }
  return out;
}
