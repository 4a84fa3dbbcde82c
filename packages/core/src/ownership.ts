import type { DomainMetadata } from './domain-xml.js';

/**
 * Whose a libvirt domain is, from its agentfleet metadata: this fleet's, another fleet's, or
 * nobody's that fleet knows (made by hand, or by a fleet from before fleets had ids).
 */
export type DomainOwner =
  | { kind: 'ours'; agent: string }
  | { kind: 'fleet'; id: string; dir?: string; stateDir?: string }
  | { kind: 'unknown' };

export function domainOwner(meta: DomainMetadata | undefined, fleetId: string): DomainOwner {
  if (meta?.fleet?.id === fleetId) return { kind: 'ours', agent: meta.agent };
  if (meta?.fleet) return { kind: 'fleet', ...meta.fleet };
  return { kind: 'unknown' };
}

/** The owner as a user would recognise it: the fleet's repository and state dir when known. */
export function describeOwner(owner: Exclude<DomainOwner, { kind: 'ours' }>): string {
  if (owner.kind === 'unknown') return 'no agentfleet fleet (defined by hand or before fleets had ids)';
  const where = [owner.dir && `fleet dir ${owner.dir}`, owner.stateDir && `state dir ${owner.stateDir}`]
    .filter(Boolean)
    .join(', ');
  return `another fleet (id ${owner.id}${where ? `, ${where}` : ''})`;
}

/** Why an agent cannot have `domain`, and the ways out (import only for a domain no fleet owns). */
export function domainTakenMessage(
  agent: string,
  domain: string,
  uri: string,
  owner: { text: string; importable: boolean },
): string {
  const prefix = "set a domainPrefix in fleet.yaml so this fleet's domains get other names";
  return (
    `domain ${domain} on ${uri} belongs to ${owner.text}: not touching it. ` +
    (owner.importable
      ? `Either ${prefix}, or adopt the domain with \`fleet import ${agent}\``
      : `To run both, ${prefix}`)
  );
}
