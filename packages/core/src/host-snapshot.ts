/**
 * What is already taken on one libvirt host, gathered by the engine/CLI (core does no I/O).
 *
 * Report everything you see, including this fleet's own domains and the listeners their QEMU
 * processes hold: `allocate` recognises a domain whose `agent` is set (this fleet's metadata says
 * it is that agent's) as that agent itself, and a listener on a port that agent's own domain
 * holds as its own, so an agent never conflicts with itself. Another fleet's domain is foreign.
 */
export interface HostSnapshot {
  uri: string;
  /** Logical CPUs of the host. */
  cpus: number;
  /** Memory of the host (libvirt's node info); undefined when not known. */
  memoryMiB?: number;
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
  /** The agent of this fleet the domain belongs to (from its metadata); unset for anyone else's. */
  agent?: string;
  ports: number[];
  cores: number[];
  /** Memory the domain is given (its <memory>), when known. */
  memoryMiB?: number;
}
