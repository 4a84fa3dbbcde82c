// The Hypervisor contract on libvirt's test driver: no daemon, state per connection.

import { hypervisorContract } from '@agentfleet/testing/hypervisor-contract';
import { testDriverDomainXml } from '@agentfleet/testing/test-domains';
import { LibvirtHypervisor } from './hypervisor.js';

hypervisorContract('LibvirtHypervisor on test:///default', {
  open: () => LibvirtHypervisor.connect('test:///default'),
  domainXml: testDriverDomainXml,
});
