// The Hypervisor contract on libvirt's test driver: no daemon, state per connection.

import { hypervisorContract } from './hypervisor.contract.js';
import { LibvirtHypervisor } from './hypervisor.js';
import { testDriverDomainXml } from './test-domains.js';

hypervisorContract('LibvirtHypervisor on test:///default', {
  open: () => LibvirtHypervisor.connect('test:///default'),
  domainXml: testDriverDomainXml,
});
