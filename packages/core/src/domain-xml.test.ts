import { sampleInput } from '@agentfleet/testing/fleets';
import { describe, expect, it } from 'vitest';
import { parseCpuset, resourcesOfDomainXml } from './domain-resources.js';
import { domainMetadataOf, domainXml, specHash } from './domain-xml.js';

describe('domainXml', () => {
  const nic = '<qemu:arg value="virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56,bus=pcie.0,addr=0x10"/>';

  it("isolated: joins the agent's passt on its unix socket, with no <interface>, so exactly one NIC", () => {
    const xml = domainXml(sampleInput);
    expect(xml).not.toContain('<interface');
    expect(xml).toContain('xmlns:qemu="http://libvirt.org/schemas/domain/qemu/1.0"');
    expect(xml).toContain(
      '<qemu:arg value="stream,id=net0,server=off,addr.type=unix,addr.path=/home/u/.agentvms/run/agent-drago/passt.sock"/>',
    );
    expect(xml).not.toContain('hostfwd');
    expect(xml).toContain(nic);
    expect(xml.match(/52:54:00:12:34:56/g)).toHaveLength(1);
  });

  it('open: QEMU user networking with the hostfwd forward (the explicit opt-out)', () => {
    const xml = domainXml({ ...sampleInput, network: { mode: 'open', portForward: 'hostfwd' } });
    expect(xml).not.toContain('<interface');
    expect(xml).toContain('<qemu:arg value="user,id=net0,hostfwd=tcp:127.0.0.1:2223-:22"/>');
    expect(xml).toContain(nic);
  });

  it('none: QEMU user networking restricted to the SSH forward', () => {
    const xml = domainXml({ ...sampleInput, network: { mode: 'none' } });
    expect(xml).toContain('<qemu:arg value="user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:2223-:22"/>');
    expect(xml).toContain(nic);
  });

  it('open with libvirt passt: a passt portForward on 127.0.0.1', () => {
    const xml = domainXml({ ...sampleInput, network: { mode: 'open', portForward: 'passt' } });
    expect(xml).not.toContain('qemu:commandline');
    expect(xml).toMatch(
      /<interface type="user">\s*<mac address="52:54:00:12:34:56"\/>\s*<model type="virtio"\/>\s*<backend type="passt"\/>\s*<portForward proto="tcp" address="127.0.0.1">\s*<range start="2223" to="22"\/>/,
    );
  });

  it('hands fw_cfg entries over as files, never as values', () => {
    expect(domainXml(sampleInput)).toMatch(
      /<sysinfo type="fwcfg">\s*<entry name="opt\/agentfleet\/authorized_keys" file="\/home\/u\/.agentvms\/keys\/authorized_keys"\/>\s*<\/sysinfo>/,
    );
  });

  it('pins each vCPU to its allocated core and the emulator thread to the reserved cores only', () => {
    const xml = domainXml(sampleInput);
    expect(xml).toMatch(
      /<cputune>\s*<vcpupin vcpu="0" cpuset="1"\/>\s*<vcpupin vcpu="1" cpuset="3"\/>\s*<\/cputune>/,
    );
    // The display has no port (a socket), and passt, not the domain, holds the SSH forward.
    expect(resourcesOfDomainXml(xml)).toEqual({ ports: [], cores: [1, 3], memoryMiB: 4096 });
    expect(domainXml({ ...sampleInput, reservedCores: [0, 2] })).toMatch(
      /<vcpupin vcpu="1" cpuset="3"\/>\s*<emulatorpin cpuset="0,2"\/>\s*<\/cputune>/,
    );
  });

  it('serves SPICE on a unix socket only: no TCP port, no password', () => {
    const xml = domainXml(sampleInput);
    expect(xml).toMatch(
      /<graphics type="spice">\s*<listen type="socket" socket="\/home\/u\/.agentvms\/run\/agent-drago\/spice.sock"\/>/,
    );
    expect(xml).not.toMatch(/port="5900"|passwd/);
  });

  it('makes the serial console a pty logged to the file, and uses -cpu host only for kvm', () => {
    const xml = domainXml(sampleInput);
    expect(xml).toMatch(
      /<serial type="pty">\s*<log file="\/home\/u\/.agentvms\/agent-drago.console.log" append="on"\/>/,
    );
    expect(xml).toContain('<console type="pty">');
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
    expect(hashOf({ ...sampleInput, fwcfgFiles: { ...sampleInput.fwcfgFiles } })).toBe(base);
    expect(hashOf({ ...sampleInput, agent: { ...sampleInput.agent, memoryMiB: 2048 } })).not.toBe(base);
    expect(hashOf({ ...sampleInput, network: { mode: 'none' } })).not.toBe(base);
    expect(hashOf({ ...sampleInput, allocation: { ...sampleInput.allocation, cores: [3, 1] } })).not.toBe(
      base,
    );
    expect(hashOf({ ...sampleInput, fwcfgFiles: { authorized_keys: '/other' } })).not.toBe(base);
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

  it('shares: virtiofs devices on shared memory, read-only ones served by the wrapper, announced to the guest', () => {
    const xml = domainXml({
      ...sampleInput,
      shares: [
        { source: '/home/u/projects', tag: 'projects', target: '/mnt/projects', readOnly: true },
        { source: '/srv/out', tag: 'out', target: '/mnt/out', readOnly: false },
      ],
      virtiofsdReadOnly: '/opt/fleet/libexec/virtiofsd-readonly',
    });
    expect(xml).toMatch(
      /<memoryBacking>\s*<source type="memfd"\/>\s*<access mode="shared"\/>\s*<\/memoryBacking>/,
    );
    expect(xml).toMatch(
      /<filesystem type="mount" accessmode="passthrough">\s*<driver type="virtiofs"\/>\s*<binary path="\/opt\/fleet\/libexec\/virtiofsd-readonly"\/>\s*<source dir="\/home\/u\/projects"\/>\s*<target dir="projects"\/>\s*<\/filesystem>/,
    );
    // libvirt 9.0 refuses <readonly/> on virtiofs; a read-write share runs libvirt's own virtiofsd.
    expect(xml).not.toContain('<readonly');
    expect(xml).toMatch(
      /<filesystem type="mount" accessmode="passthrough">\s*<driver type="virtiofs"\/>\s*<source dir="\/srv\/out"\/>/,
    );
    expect(xml).toContain(
      '<entry name="opt/agentfleet/shares">projects:/mnt/projects:ro out:/mnt/out:rw</entry>',
    );
    // Agents without shares keep the XML (and spec hash) they had: no redefinition of running domains.
    expect(domainXml({ ...sampleInput, shares: [] })).toBe(domainXml(sampleInput));
    expect(domainXml(sampleInput)).not.toMatch(/memoryBacking|filesystem/);
    expect(() =>
      domainXml({ ...sampleInput, shares: [{ source: '/a', tag: 'a', target: '/mnt/a', readOnly: true }] }),
    ).toThrow(/no virtiofsdReadOnly wrapper/);
  });

  it('refuses caller bugs: cores not matching vCPUs, bad fw_cfg keys', () => {
    expect(() =>
      domainXml({ ...sampleInput, allocation: { ...sampleInput.allocation, cores: [1] } }),
    ).toThrow(/2 vCPUs but 1 cores/);
    expect(() => domainXml({ ...sampleInput, fwcfgFiles: { 'Bad/Key': '/x' } })).toThrow(/fw_cfg key/);
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
