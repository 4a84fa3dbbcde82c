import type { DomainResources } from './host-snapshot.js';
import { under, xmlElements } from './xml-dom.js';

/** libvirt's memory units (formatdomain: memory allocation) in KiB. */
const MEMORY_UNIT_KIB: Record<string, number> = {
  b: 1 / 1024,
  bytes: 1 / 1024,
  KB: 1000 / 1024,
  k: 1,
  KiB: 1,
  MB: 1e6 / 1024,
  M: 1024,
  MiB: 1024,
  GB: 1e9 / 1024,
  G: 1024 ** 2,
  GiB: 1024 ** 2,
};

/** Parse a libvirt cpuset ("0-3,^2,6") into sorted core numbers. */
export function parseCpuset(set: string): number[] {
  const cores = new Set<number>();
  const excluded = new Set<number>();
  for (const part of set.split(',').map((p) => p.trim())) {
    const m = /^(\^)?(\d+)(?:-(\d+))?$/.exec(part);
    if (!m?.[2]) continue;
    const from = Number(m[2]);
    const to = m[3] === undefined ? from : Number(m[3]);
    for (let c = from; c <= to; c++) (m[1] ? excluded : cores).add(c);
  }
  return [...cores].filter((c) => !excluded.has(c)).sort((a, b) => a - b);
}

/** Host ports in a QEMU `hostfwd=tcp:ADDR:PORT-GUEST:GPORT` netdev argument. */
function hostfwdPorts(arg: string): number[] {
  return [...arg.matchAll(/hostfwd=(?:tcp|udp)?:[^:,]*:(\d+)-/g)].map((m) => Number(m[1]));
}

/**
 * Host resources a domain holds, from its XML: graphics ports (SPICE/VNC, incl. TLS and
 * websocket), passt portForward ranges, QEMU hostfwd arguments, and the cores its vCPUs and
 * emulator are pinned to. Unpinned domains report no cores (they float).
 */
export function resourcesOfDomainXml(xml: string): Omit<DomainResources, 'name'> {
  const ports = new Set<number>();
  const cores = new Set<number>();
  let memoryMiB: number | undefined;
  const addPort = (v: string | null) => {
    const n = Number(v);
    // -1 / 0 mean "not allocated yet" (autoport on a stopped domain).
    if (v !== null && Number.isInteger(n) && n > 0) ports.add(n);
  };
  for (const el of xmlElements(xml)) {
    if (el.localName === 'graphics' && under(el, 'devices')) {
      for (const attr of ['port', 'tlsPort', 'websocket']) addPort(el.getAttribute(attr));
    } else if (el.localName === 'range' && under(el, 'portForward')) {
      const start = Number(el.getAttribute('start'));
      const end = Number(el.getAttribute('end') ?? start);
      for (let p = start; p <= end && p > 0; p++) ports.add(p);
    } else if (el.localName === 'arg' && under(el, 'commandline')) {
      for (const p of hostfwdPorts(el.getAttribute('value') ?? '')) ports.add(p);
    } else if ((el.localName === 'vcpupin' || el.localName === 'emulatorpin') && under(el, 'cputune')) {
      for (const c of parseCpuset(el.getAttribute('cpuset') ?? '')) cores.add(c);
    } else if (el.localName === 'memory' && under(el, 'domain')) {
      memoryMiB = Math.floor(
        (Number(el.textContent) * (MEMORY_UNIT_KIB[el.getAttribute('unit') ?? 'KiB'] ?? 1)) / 1024,
      );
    } else if (el.localName === 'vcpu' && under(el, 'domain') && el.getAttribute('cpuset')) {
      for (const c of parseCpuset(el.getAttribute('cpuset') ?? '')) cores.add(c);
    }
  }
  return {
    ports: [...ports].sort((a, b) => a - b),
    cores: [...cores].sort((a, b) => a - b),
    ...(memoryMiB !== undefined && Number.isFinite(memoryMiB) && { memoryMiB }),
  };
}
