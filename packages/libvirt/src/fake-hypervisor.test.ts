import { FakeHypervisor } from '@agentfleet/testing/fake-hypervisor';
import { hypervisorContract } from '@agentfleet/testing/hypervisor-contract';

hypervisorContract('FakeHypervisor', {
  open: async () => new FakeHypervisor(),
  domainXml: (name, { description, uuid }) =>
    `<domain type='test'><name>${name}</name>${uuid ? `<uuid>${uuid}</uuid>` : ''}<description>${description}</description><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>`,
});
