import type { DomainResources } from './host-snapshot.js';

/** Ports (SPICE/VNC graphics, passt portForward, hostfwd) and pinned cores of any domain XML. */
export function resourcesOfDomainXml(_xml: string): Omit<DomainResources, 'name'> {
  throw new Error('resourcesOfDomainXml: not implemented yet');
}
