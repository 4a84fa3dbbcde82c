/**
 * What is already taken on one libvirt host, gathered by the engine/CLI (core does no I/O).
 *
 * Report everything you see, including this fleet's own running `agent-<name>` domains and
 * the listeners their QEMU processes hold: `allocate` recognises a domain named
 * `agent-<name>` for an agent of this fleet on this URI as that agent itself, and a listener
 * on a port that agent's own domain holds (or whose `owner` is that domain) as its own, so an
 * agent never conflicts with itself.
 */
export interface HostSnapshot {
  uri: string;
  /** Logical CPUs of the host. */
  cpus: number;
  listeningPorts: ListeningPort[];
  /** Other libvirt domains' resources (see resourcesOfDomainXml). */
  domains: DomainResources[];
}

export interface ListeningPort {
  port: number;
  /** Who holds it when known (process name, `domain <name>`); shown in conflicts. */
  owner?: string;
}

export interface DomainResources {
  name: string;
  ports: number[];
  cores: number[];
}
