import type { Allocation } from './ledger.js';
import type { AgentSpec, DomainType, PortForward } from './model.js';

/** Namespace of agentfleet's `<metadata>` child in a domain XML. */
export const AGENT_METADATA_NS = 'https://agentfleet.dev/xmlns/agent/1';

export interface DomainXmlInput {
  agent: Pick<AgentSpec, 'name' | 'memoryMiB' | 'vcpus'>;
  allocation: Allocation;
  domainType: DomainType;
  portForward: PortForward;
  /** Absolute path of the agent's qcow2. */
  diskPath: string;
  /** Absolute path the serial console is written to. */
  consoleLogPath: string;
  /** QEMU binary; libvirt picks its default when omitted. */
  emulator?: string;
  /** fw_cfg entries, exposed in the guest as opt/agentfleet/<key>. */
  fwcfg?: Record<string, string>;
}

export interface DomainMetadata {
  agent: string;
  specHash: string;
}

export function domainXml(_input: DomainXmlInput): string {
  throw new Error('domainXml: not implemented yet');
}

export function domainMetadataOf(_xml: string): DomainMetadata | undefined {
  throw new Error('domainMetadataOf: not implemented yet');
}

/** Stable hash of everything the domain XML depends on (hex sha-256). */
export function specHash(_input: DomainXmlInput): string {
  throw new Error('specHash: not implemented yet');
}
