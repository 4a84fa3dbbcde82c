// Test support: the real libvirt tools (virt-xml-validate, virsh on the test:///default driver or the system one).
// The test driver keeps state per connection only, so define + dumpxml run in one virsh call.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function withXmlFile<T>(xml: string, use: (file: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'agentfleet-xml-'));
  try {
    const file = join(dir, 'domain.xml');
    writeFileSync(file, xml);
    return use(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** virt-xml-validate against libvirt's domain RelaxNG schema. */
export function virtXmlValidate(xml: string): { ok: boolean; output: string } {
  return withXmlFile(xml, (file) => {
    const r = spawnSync('virt-xml-validate', [file, 'domain'], { encoding: 'utf8' });
    if (r.error) throw r.error;
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
  });
}

/** Define the domain on test:///default and return libvirt's own rendering of it. */
export function virshDefineAndDump(xml: string, name: string): { ok: boolean; output: string } {
  return withXmlFile(xml, (file) => {
    const r = spawnSync('virsh', ['-q', '-c', 'test:///default', `define ${file}; dumpxml ${name}`], {
      encoding: 'utf8',
    });
    if (r.error) throw r.error;
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
  });
}

/**
 * Define the domain on the real qemu:///system (what the QEMU driver accepts, beyond the schema), dump it, and
 * undefine it again; nothing is started.
 */
export function virshOnSystem(xml: string, name: string): { ok: boolean; output: string } {
  return withXmlFile(xml, (file) => {
    const r = spawnSync('virsh', ['-q', '-c', 'qemu:///system', `define ${file}; dumpxml ${name}`], {
      encoding: 'utf8',
    });
    spawnSync('virsh', ['-q', '-c', 'qemu:///system', 'undefine', name], { encoding: 'utf8' });
    if (r.error) throw r.error;
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
  });
}
