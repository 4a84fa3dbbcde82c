import crypto from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { run } from './exec.js';
import { systemUri } from './libvirtd.js';
import { freePort } from './ports.js';
import { ensureTestImage, type TestImage } from './test-image.js';

export interface TestVmOptions {
  /** Reuse this disk (e.g. to boot a disk again after its domain is gone); default: a fresh overlay of the base. */
  disk?: string;
  /**
   * fw_cfg entries, keyed by the part after opt/agentfleet/ (authorized_keys, ssh_host_ed25519_key, hostname): a
   * string is passed inline, `{file}` by path. Secrets must go by file: an inline value lands on QEMU's command line,
   * which every local user can read in `ps`.
   */
  fwcfg?: Record<string, string | { file: string }>;
  memoryMiB?: number;
}

export interface TestVm {
  /** libvirt domain name on qemu:///system. */
  name: string;
  dir: string;
  disk: string;
  consoleLog: string;
  sshPort: number;
  spicePort: number;
  image: TestImage;
  /** Waits until the serial console log matches (after `fromOffset` bytes), returning the match. */
  waitForConsole(pattern: RegExp, timeoutMs: number, fromOffset?: number): Promise<RegExpMatchArray>;
  /** Current size of the console log, to wait for lines written after this point. */
  consoleOffset(): Promise<number>;
  start(): Promise<void>;
  /** ACPI power button, then waits for shut off (default bound 300 s: a TCG guest under load takes its time). */
  shutdown(timeoutMs?: number): Promise<void>;
  /** Destroys and undefines the domain and deletes its directory (a disk passed in lives elsewhere and stays). */
  remove(): Promise<void>;
}

const virsh = (...args: string[]) => run('virsh', ['-c', systemUri, ...args]);

const xmlEscape = (s: string) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/'/g, '&apos;')
    .replace(/"/g, '&quot;');

function domainXml(
  vm: Pick<TestVm, 'name' | 'disk' | 'consoleLog' | 'sshPort' | 'spicePort'>,
  opts: TestVmOptions,
): string {
  const mac = `52:54:00:${[...crypto.randomBytes(3)].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
  const entries = Object.entries(opts.fwcfg ?? {})
    .map(([k, v]) =>
      typeof v === 'string'
        ? `<entry name='opt/agentfleet/${xmlEscape(k)}'>${xmlEscape(v)}</entry>`
        : `<entry name='opt/agentfleet/${xmlEscape(k)}' file='${xmlEscape(v.file)}'/>`,
    )
    .join('');
  // Port forwarding through qemu's user network on the command line: libvirt 9.0 has no passt backend. The NIC needs
  // an explicit PCI slot: libvirt does not know about it and would give its slot (0x2 upward) to another device.
  return `<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>${vm.name}</name>
  <memory unit='MiB'>${opts.memoryMiB ?? 256}</memory>
  <vcpu>1</vcpu>
  ${entries ? `<sysinfo type='fwcfg'>${entries}</sysinfo>` : ''}
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/><source file='${xmlEscape(vm.disk)}'/><target dev='vda' bus='virtio'/>
    </disk>
    <serial type='file'><source path='${xmlEscape(vm.consoleLog)}' append='on'/><target port='0'/></serial>
    <graphics type='spice' port='${vm.spicePort}' autoport='no'><listen type='address' address='127.0.0.1'/></graphics>
    <video><model type='virtio'/></video>
    <memballoon model='none'/>
    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
  </devices>
  <qemu:commandline>
    <qemu:arg value='-netdev'/><qemu:arg value='user,id=net0,hostfwd=tcp:127.0.0.1:${vm.sshPort}-:22'/>
    <qemu:arg value='-device'/><qemu:arg value='virtio-net-pci,netdev=net0,mac=${mac},bus=pci.0,addr=0x10'/>
  </qemu:commandline>
</domain>`;
}

async function domainState(name: string): Promise<string> {
  return (await virsh('domstate', name)).trim();
}

/**
 * Defines and starts one test VM on qemu:///system (TCG), with SSH forwarded to 127.0.0.1:sshPort and SPICE on
 * 127.0.0.1:spicePort. Tests own the result and must call remove(). The product never drives libvirt via virsh;
 * this is test scaffolding only.
 */
export async function bootTestVm(opts: TestVmOptions = {}): Promise<TestVm> {
  const image = await ensureTestImage();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'agentfleet-vm-'));
  const name = `aftest-${path.basename(dir).slice('agentfleet-vm-'.length)}`;
  const disk = opts.disk ?? path.join(dir, 'disk.qcow2');
  if (!opts.disk) {
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', image.baseImage, disk]);
  }
  const consoleLog = path.join(dir, 'console.log');
  await writeFile(consoleLog, '');
  const base = { name, dir, disk, consoleLog, sshPort: 0, spicePort: 0 };
  const xmlPath = path.join(dir, 'domain.xml');

  const vm: TestVm = {
    ...base,
    image,
    async consoleOffset() {
      return (await readFile(consoleLog)).length;
    },
    async waitForConsole(pattern, timeoutMs, fromOffset = 0) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const text = (await readFile(consoleLog)).subarray(fromOffset).toString('utf8');
        const m = text.match(pattern);
        if (m) return m;
        if (Date.now() > deadline) {
          throw new Error(
            `${name}: console never matched ${pattern} in ${timeoutMs} ms; tail:\n${text.slice(-2000)}`,
          );
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async start() {
      await virsh('start', name);
    },
    async shutdown(timeoutMs = 300_000) {
      await virsh('shutdown', name);
      const deadline = Date.now() + timeoutMs;
      while ((await domainState(name)) !== 'shut off') {
        if (Date.now() > deadline) throw new Error(`${name} did not shut down within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async remove() {
      // Clean-up must not fail a passing file: a guest that powers off between the look and the destroy makes
      // destroy fail ("domain is not running"), and that is what was wanted.
      const state = await domainState(name).catch(() => 'gone');
      if (state !== 'shut off' && state !== 'gone') await virsh('destroy', name).catch(() => undefined);
      await virsh('undefine', name).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
  // freePort's port was free a moment ago; another suite's process may take it before QEMU binds it, so a start
  // that lost the race gets new ports.
  for (let attempt = 1; ; attempt++) {
    vm.sshPort = await freePort();
    vm.spicePort = await freePort();
    await writeFile(xmlPath, domainXml(vm, opts));
    await virsh('define', xmlPath);
    try {
      await vm.start();
      return vm;
    } catch (err) {
      if (attempt < 3 && PORT_TAKEN.test((err as Error).message)) continue;
      await vm.remove();
      throw err;
    }
  }
}

const PORT_TAKEN = /Could not set up host forwarding rule|Failed to bind socket|Address already in use/;
