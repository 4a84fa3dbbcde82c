import { sha256 } from '@noble/hashes/sha2.js';

/** QEMU's locally administered OUI; libvirt uses it for generated MACs too. */
const QEMU_OUI = '52:54:00';

function macOf(n: number): string {
  const hex = (n & 0xffffff).toString(16).padStart(6, '0');
  return `${QEMU_OUI}:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}`;
}

/**
 * A MAC derived from the agent's identity (so a regenerated ledger tends to give the same one),
 * stepped past any already in use.
 */
export function pickMac(uri: string, agent: string, used: ReadonlySet<string>): string {
  const h = sha256(new TextEncoder().encode(`${uri}\n${agent}`));
  let n = ((h[0] ?? 0) << 16) | ((h[1] ?? 0) << 8) | (h[2] ?? 0);
  for (let i = 0; i < 0x1000000; i++, n++) {
    const mac = macOf(n);
    if (!used.has(mac)) return mac;
  }
  throw new Error('every 52:54:00 MAC address is in use');
}
