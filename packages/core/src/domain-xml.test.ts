import { describe, expect, it } from 'vitest';
import { sampleInput } from '../test-support/fleets.js';
import { parseCpuset, resourcesOfDomainXml } from './domain-resources.js';
import { domainMetadataOf, domainXml, specHash } from './domain-xml.js';

describe('domainXml', () => {
  it('forwards SSH with QEMU hostfwd and no <interface>, so there is exactly one NIC', () => {
    const xml = domainXml(sampleInput);
    expect(xml).not.toContain('<interface');
    expect(xml).toContain('xmlns:qemu="http://libvirt.org/schemas/domain/qemu/1.0"');
    expect(xml).toContain('<qemu:arg value="user,id=net0,hostfwd=tcp:127.0.0.1:2223-:22"/>');
    expect(xml).toContain(
      '<qemu:arg value="virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56,bus=pcie.0,addr=0x10"/>',
    );
    expect(xml.match(/52:54:00:12:34:56/g)).toHaveLength(1);
  });

  it('forwards SSH with a passt portForward on 127.0.0.1 in passt mode', () => {
    const xml = domainXml({ ...sampleInput, portForward: 'passt' });
    expect(xml).not.toContain('qemu:commandline');
    expect(xml).toMatch(
      /<interface type="user">\s*<mac address="52:54:00:12:34:56"\/>\s*<model type="virtio"\/>\s*<backend type="passt"\/>\s*<portForward proto="tcp" address="127.0.0.1">\s*<range start="2223" to="22"\/>/,
    );
  });

  it('pins each vCPU to its allocated core and the emulator thread to the reserved cores only', () => {
    const xml = domainXml(sampleInput);
    expect(xml).toMatch(
      /<cputune>\s*<vcpupin vcpu="0" cpuset="1"\/>\s*<vcpupin vcpu="1" cpuset="3"\/>\s*<\/cputune>/,
    );
    expect(resourcesOfDomainXml(xml)).toEqual({ ports: [2223, 5900], cores: [1, 3] });
    expect(domainXml({ ...sampleInput, reservedCores: [0, 2] })).toMatch(
      /<vcpupin vcpu="1" cpuset="3"\/>\s*<emulatorpin cpuset="0,2"\/>\s*<\/cputune>/,
    );
  });

  it('serves SPICE on 127.0.0.1 only, at the allocated port', () => {
    expect(domainXml(sampleInput)).toMatch(
      /<graphics type="spice" port="5900" autoport="no">\s*<listen type="address" address="127.0.0.1"\/>/,
    );
  });

  it('writes the serial console to the log file and uses -cpu host only for kvm', () => {
    const xml = domainXml(sampleInput);
    expect(xml).toContain('<source path="/home/u/.agentvms/agent-drago.console.log" append="on"/>');
    expect(xml).toContain('<console type="file">');
    expect(xml).not.toContain('<cpu ');
    expect(domainXml({ ...sampleInput, domainType: 'kvm' })).toContain(
      '<cpu mode="host-passthrough" check="none"/>',
    );
  });

  it('records agent and spec hash in its own metadata namespace', () => {
    const xml = domainXml(sampleInput);
    expect(domainMetadataOf(xml)).toEqual({ agent: 'drago', specHash: specHash(xml) });
    expect(specHash(xml)).toMatch(/^[0-9a-f]{64}$/);
    expect(domainMetadataOf('<domain type="qemu"><name>x</name></domain>')).toBeUndefined();
    // Same local name in another namespace is not ours.
    expect(
      domainMetadataOf(
        '<domain><metadata><a:agent xmlns:a="urn:other" name="x" specHash="y"/></metadata></domain>',
      ),
    ).toBeUndefined();
  });

  it('hashes every input that shapes the XML, and nothing about key order', () => {
    const hashOf = (input: typeof sampleInput) => domainMetadataOf(domainXml(input))?.specHash;
    const base = hashOf(sampleInput);
    expect(hashOf({ ...sampleInput })).toBe(base);
    expect(hashOf({ ...sampleInput, fwcfg: { ...sampleInput.fwcfg } })).toBe(base);
    expect(hashOf({ ...sampleInput, agent: { ...sampleInput.agent, memoryMiB: 2048 } })).not.toBe(base);
    expect(hashOf({ ...sampleInput, portForward: 'passt' })).not.toBe(base);
    expect(hashOf({ ...sampleInput, allocation: { ...sampleInput.allocation, cores: [3, 1] } })).not.toBe(
      base,
    );
    expect(hashOf({ ...sampleInput, fwcfg: { authorized_keys: 'other' } })).not.toBe(base);
  });

  it('hashes the generated XML itself, so a generator change is drift even with the same input', () => {
    const xml = domainXml(sampleInput);
    // What a generator change would produce: the same input, different XML.
    const changed = xml.replace('<on_crash>destroy</on_crash>', '<on_crash>restart</on_crash>');
    expect(changed).not.toBe(xml);
    expect(specHash(changed)).not.toBe(specHash(xml));
    // The metadata element that carries the hash is not part of it.
    const rehashed = xml.replace(/specHash="[0-9a-f]+"/, 'specHash="other"');
    expect(specHash(rehashed)).toBe(specHash(xml));
  });

  it('refuses caller bugs: cores not matching vCPUs, bad fw_cfg keys', () => {
    expect(() =>
      domainXml({ ...sampleInput, allocation: { ...sampleInput.allocation, cores: [1] } }),
    ).toThrow(/2 vCPUs but 1 cores/);
    expect(() => domainXml({ ...sampleInput, fwcfg: { 'Bad/Key': 'x' } })).toThrow(/fw_cfg key/);
  });
});

describe('resourcesOfDomainXml', () => {
  it('reads ports and pins of a foreign domain as libvirt prints it', () => {
    const xml = `<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
      <name>other</name><vcpu placement='static' cpuset='4-7,^6'>2</vcpu>
      <cputune><vcpupin vcpu='0' cpuset='8'/></cputune>
      <devices>
        <graphics type='vnc' port='-1' autoport='yes'/>
        <graphics type='spice' port='5930' tlsPort='5931' autoport='no'/>
        <interface type='user'><backend type='passt'/><portForward proto='tcp'><range start='8080' end='8082' to='80'/></portForward></interface>
      </devices>
      <qemu:commandline><qemu:arg value='-netdev'/><qemu:arg value='user,id=n,hostfwd=tcp::2299-:22,hostfwd=tcp:127.0.0.1:8443-:443'/></qemu:commandline>
    </domain>`;
    expect(resourcesOfDomainXml(xml)).toEqual({
      ports: [2299, 5930, 5931, 8080, 8081, 8082, 8443],
      cores: [4, 5, 7, 8],
    });
  });

  it('parses libvirt cpusets', () => {
    expect(parseCpuset('0-3,^2,6')).toEqual([0, 1, 3, 6]);
    expect(parseCpuset('5')).toEqual([5]);
  });
});
