import type { DomainType, FleetConfig, HostFacts, PortForward } from '@agentfleet/core';
import type { EngineLog } from './log.js';

export interface HostChoice {
  domainType: DomainType;
  portForward: PortForward;
}

/**
 * Resolves fleet.yaml's `auto` settings against what the host proved it can do (KVM that
 * really runs guests; a libvirt that accepts the passt backend), and says what it chose.
 */
export function chooseForHost(config: FleetConfig, facts: HostFacts, log: EngineLog): HostChoice {
  const domainType: DomainType =
    config.domainType === 'auto' ? (facts.kvmUsable ? 'kvm' : 'qemu') : config.domainType;
  const portForward: PortForward =
    config.portForward === 'auto' ? (facts.passtSupported ? 'passt' : 'hostfwd') : config.portForward;
  if (config.domainType === 'auto') {
    // Falling back to TCG makes every agent several times slower: worth a warning, once per host.
    if (facts.kvmUsable) log.info({ uri: facts.uri, domainType }, 'KVM works on this host: using kvm');
    else log.warn({ uri: facts.uri, domainType }, 'KVM is not usable on this host: using qemu (TCG, slow)');
  }
  if (config.portForward === 'auto') {
    log.info(
      { uri: facts.uri, portForward, libvirt: facts.libVersion },
      facts.passtSupported
        ? 'libvirt supports passt: using portForward'
        : 'no passt backend: using qemu hostfwd',
    );
  }
  return { domainType, portForward };
}
