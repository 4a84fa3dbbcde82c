import { createXml as create } from '../lazy-libs.js';

// The fields of a domain that fleet controls, read back from whatever XML libvirt returns.
// libvirt normalises what it stores (units, defaults, added controllers), so comparing XML
// text would report drift on every domain; comparing these fields finds real edits.

/** The slice of the DOM that xmlbuilder2's nodes provide and this file reads. */
interface El {
  nodeType: number;
  localName: string | null;
  textContent: string | null;
  childNodes: Iterable<unknown>;
  getAttribute(name: string): string | null;
}

const elements = (parent: El | undefined, local: string): El[] =>
  parent ? ([...parent.childNodes] as El[]).filter((n) => n.nodeType === 1 && n.localName === local) : [];
const first = (parent: El | undefined, local: string): El | undefined => elements(parent, local)[0];
const text = (el: El | undefined): string | undefined => el?.textContent?.trim() || undefined;
const attr = (el: El | undefined, name: string): string | undefined => el?.getAttribute(name) ?? undefined;

const UNIT_KIB: Record<string, number> = {
  b: 1 / 1024,
  bytes: 1 / 1024,
  k: 1,
  kib: 1,
  m: 1024,
  mib: 1024,
  g: 1024 ** 2,
  gib: 1024 ** 2,
};

/** Field -> value for the parts of a domain XML that the agent's spec determines. */
export function domainProjection(xml: string): Record<string, string> {
  const root = create(xml).root().node as unknown as El;
  const out: Record<string, string> = {};
  const set = (field: string, value: string | undefined) => {
    if (value !== undefined && value !== '') out[field] = value;
  };

  set('type', attr(root, 'type'));
  const memory = first(root, 'memory');
  const amount = Number(text(memory));
  const unit = (attr(memory, 'unit') ?? 'KiB').toLowerCase();
  if (Number.isFinite(amount) && UNIT_KIB[unit]) set('memory', `${(amount * UNIT_KIB[unit]) / 1024} MiB`);
  set('vcpus', text(first(root, 'vcpu')));

  const cputune = first(root, 'cputune');
  const pins = elements(cputune, 'vcpupin')
    .map((p) => `${attr(p, 'vcpu')}:${attr(p, 'cpuset')}`)
    .sort();
  set('vcpupin', pins.join(' '));
  set('emulatorpin', attr(first(cputune, 'emulatorpin'), 'cpuset'));

  const devices = first(root, 'devices');
  const disk = elements(devices, 'disk').find((d) => attr(d, 'device') === 'disk');
  set('disk', attr(first(disk, 'source'), 'file'));

  const spice = elements(devices, 'graphics').find((g) => attr(g, 'type') === 'spice');
  const listen = first(spice, 'listen');
  set(
    'spice',
    spice &&
      (attr(listen, 'type') === 'socket'
        ? `unix:${attr(listen, 'socket') ?? "(libvirt's domain directory)"}`
        : `${attr(listen, 'address') ?? attr(spice, 'listen')}:${attr(spice, 'port')}`),
  );

  for (const iface of elements(devices, 'interface')) {
    set('mac', attr(first(iface, 'mac'), 'address'));
    const fwd = first(iface, 'portForward');
    const range = first(fwd, 'range');
    if (fwd && range)
      set('ssh', `${attr(fwd, 'address')}:${attr(range, 'start')}->${attr(range, 'to')} (passt)`);
  }
  const args = elements(first(root, 'commandline'), 'arg').map((a) => attr(a, 'value') ?? '');
  // libvirt keeps these verbatim, so any change (even one the fields above do not name) is drift.
  set('qemu-args', args.join(' '));
  for (const arg of args) {
    const hostfwd = /hostfwd=tcp:([^:]*):(\d+)-:(\d+)/.exec(arg);
    if (hostfwd) set('ssh', `${hostfwd[1]}:${hostfwd[2]}->${hostfwd[3]} (hostfwd)`);
    const mac = /(?:^|,)mac=([0-9a-fA-F:]{17})/.exec(arg);
    if (mac) set('mac', mac[1]?.toLowerCase());
  }

  const serial = first(devices, 'serial');
  set('console', attr(first(serial, 'log'), 'file') ?? attr(first(serial, 'source'), 'path'));
  return out;
}
