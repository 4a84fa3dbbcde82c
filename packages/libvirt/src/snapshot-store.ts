// core's SnapshotStore on libvirt internal snapshots (virDomainSnapshotCreateXML without
// DISK_ONLY): qcow2 keeps them inside the agent's own disk (the overlay, never the shared base).
// A running domain's snapshot holds its memory too (QEMU savevm); a shut-off one's is disk only.
import type { SnapshotInfo, SnapshotStore } from '@agentfleet/core';
import type { Connection } from './connection.js';
import type { Domain } from './domain.js';

const escapeXml = (s: string) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/'/g, '&apos;')
    .replace(/"/g, '&quot;');
const unescapeXml = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&apos;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');

export class LibvirtSnapshots implements SnapshotStore {
  constructor(private readonly connection: Connection) {}

  list(domain: string): Promise<SnapshotInfo[]> {
    return this.with(domain, async (d) => {
      const infos = await Promise.all(
        (await d.listSnapshots()).map(async (n) => snapshotInfo(n, await d.snapshotXml(n))),
      );
      return infos.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.label.localeCompare(b.label));
    });
  }

  create(domain: string, label: string, description: string): Promise<void> {
    const xml = `<domainsnapshot><name>${escapeXml(label)}</name><description>${escapeXml(description)}</description></domainsnapshot>`;
    return this.with(domain, async (d) => {
      await d.createSnapshot(xml);
    });
  }

  revert(domain: string, label: string): Promise<void> {
    return this.with(domain, (d) => d.revertToSnapshot(label));
  }

  delete(domain: string, label: string): Promise<void> {
    return this.with(domain, (d) => d.deleteSnapshot(label));
  }

  private async with<T>(domain: string, use: (d: Domain) => Promise<T>): Promise<T> {
    const d = await this.connection.lookupByName(domain);
    try {
      return await use(d);
    } finally {
      d.free();
    }
  }
}

/** The fields fleet shows from libvirt's <domainsnapshot> XML. */
export function snapshotInfo(label: string, xml: string): SnapshotInfo {
  const field = (tag: string) => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1];
  const created = Number(field('creationTime') ?? 0);
  const description = field('description');
  return {
    label,
    createdAt: new Date(created * 1000).toISOString(),
    state: field('state') ?? 'unknown',
    description: description === undefined ? null : unescapeXml(description),
  };
}
