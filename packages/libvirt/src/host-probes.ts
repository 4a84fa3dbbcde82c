// Probes for HostFacts that cannot be read from capabilities alone (DESIGN.md: "Domain type"
// and "SSH port forwarding with user networking").
import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection } from './connection.js';

const probeName = (what: string) => `agentfleet-probe-${what}-${process.pid}-${Date.now().toString(36)}`;

/** The host's architecture as capabilities report it, e.g. "x86_64". */
async function hostArch(c: Connection): Promise<string | undefined> {
  const caps = await c.capabilities();
  return /<host>[\s\S]*?<arch>([^<]+)<\/arch>/.exec(caps)?.[1];
}

/**
 * KVM is usable only if domcapabilities offers it with a sane CPU AND a tiny transient kvm
 * domain stays running: with nested paravirtual KVM, /dev/kvm exists and domcapabilities says
 * kvm, yet guests pause with "KVM internal error".
 */
export async function probeKvm(c: Connection, watchMs = 2000): Promise<boolean> {
  const arch = await hostArch(c).catch(() => undefined);
  if (!arch) return false;
  const caps = await c.domainCapabilities({ virtType: 'kvm', arch }).catch(() => undefined);
  if (!caps || !/<domain>kvm<\/domain>/.test(caps)) return false;
  // qemu64 is QEMU's baseline x86-64 CPU; a KVM that cannot run it lacks even SSE3. Seen with
  // nested paravirtual KVM (kvm_pvm), where a disk-less probe guest keeps running in SeaBIOS
  // yet a real boot loader dies with "KVM internal error ... emulation failure".
  if (/<model usable='no'[^>]*>qemu64<\/model>/.test(caps)) return false;
  const xml = `<domain type='kvm'><name>${probeName('kvm')}</name><memory unit='MiB'>32</memory>
    <os><type arch='${arch}'>hvm</type></os><devices><memballoon model='none'/></devices></domain>`;
  const dom = await c.createXML(xml).catch(() => undefined);
  if (!dom) return false;
  try {
    // A broken KVM pauses or dies within milliseconds of starting; watch it for a while.
    for (let waited = 0; waited < watchMs; waited += 250) {
      if ((await dom.state()).state !== 'running') return false;
      await sleep(250);
    }
    return (await dom.state()).state === 'running';
  } catch {
    return false;
  } finally {
    await dom.destroy().catch(() => {});
    dom.free();
  }
}

/**
 * passt is supported when the driver accepts <backend type='passt'/> in a definition: libvirt
 * 9.0 (Debian 12) rejects it while parsing. The probe definition is removed at once.
 */
export async function probePasst(c: Connection): Promise<boolean> {
  const arch = (await hostArch(c).catch(() => undefined)) ?? 'x86_64';
  const xml = `<domain type='qemu'><name>${probeName('passt')}</name><memory unit='MiB'>32</memory>
    <os><type arch='${arch}'>hvm</type></os>
    <devices><interface type='user'><backend type='passt'/></interface></devices></domain>`;
  const dom = await c.defineXML(xml).catch(() => undefined);
  if (!dom) return false;
  await dom.undefine().catch(() => {});
  dom.free();
  return true;
}
