import { FakeHypervisor } from '@agentfleet/core/fakes/hypervisor';
import { hypervisorContract } from './hypervisor.contract.js';

hypervisorContract('FakeHypervisor', {
  open: async () => new FakeHypervisor(),
  domainXml: (name, { description, uuid }) =>
    `<domain type='test'><name>${name}</name>${uuid ? `<uuid>${uuid}</uuid>` : ''}<description>${description}</description><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>`,
});
