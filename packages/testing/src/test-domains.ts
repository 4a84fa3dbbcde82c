// Minimal domain definitions for tests and benchmarks, one per driver.

export interface TestDomainOptions {
  description?: string;
  uuid?: string;
}

const common = (name: string, o: TestDomainOptions) =>
  `<name>${name}</name>${o.uuid ? `<uuid>${o.uuid}</uuid>` : ''}<description>${o.description ?? ''}</description>`;

/** For libvirt's test driver (test:///default). */
export function testDriverDomainXml(name: string, o: TestDomainOptions = {}): string {
  return `<domain type='test'>${common(name, o)}<memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>`;
}

/**
 * For QEMU under TCG: no disk and no display, so SeaBIOS spins looking for a boot device; that
 * is "running" enough for lifecycle, events and monitor commands, in 32 MiB.
 */
export function qemuTcgDomainXml(name: string, o: TestDomainOptions = {}): string {
  return `<domain type='qemu'>${common(name, o)}<memory unit='MiB'>32</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices><memballoon model='none'/></devices></domain>`;
}
