import {
  type ActualAgent,
  type DesiredAgent,
  type Disks,
  type DomainSummary,
  describeOwner,
  domainMetadataOf,
  domainOwner,
  domainProjection,
  type Hypervisor,
} from '@agentfleet/core';
import { type AgentFileStore, agentFiles } from './agent-files.js';
import type { StateBook } from './state-book.js';

/**
 * What exists for each desired agent: its domain (state, metadata, fields) when this fleet owns
 * it, whose it is otherwise, its disk and other files, its recorded phase.
 */
export async function observe(
  desired: readonly DesiredAgent[],
  connect: (uri: string) => Promise<Hypervisor>,
  disks: Disks,
  files: AgentFileStore,
  state: StateBook,
  owner: { fleetId: string; stateDir: string },
): Promise<ActualAgent[]> {
  const listings = new Map<string, Promise<Map<string, DomainSummary>>>();
  const listing = (uri: string) => {
    let l = listings.get(uri);
    if (!l) {
      l = connect(uri).then(async (hv) => new Map((await hv.listDomains()).map((d) => [d.name, d])));
      listings.set(uri, l);
    }
    return l;
  };
  return Promise.all(
    desired.map(async (d): Promise<ActualAgent> => {
      const hv = await connect(d.uri);
      const summary = (await listing(d.uri)).get(d.domain);
      // The persistent definition is what the next boot uses, so drift is judged on it.
      const xml = summary ? await hv.domainXml(d.domain, { inactive: true }) : undefined;
      const disk = await disks.inspect(d.disk.path, d.uri);
      const existing = await files.existing(agentFiles(owner.stateDir, d.name, d.disk.path));
      const runtime = state.get(d.name);
      const actual: ActualAgent = {
        name: d.name,
        disk: {
          exists: disk.exists,
          ...(disk.backingFile !== undefined && { backingFile: disk.backingFile }),
        },
        // The disk is judged through Disks above; the rest are plain files.
        files: existing.filter((f) => f.what !== 'disk'),
      };
      const meta = xml === undefined ? undefined : domainMetadataOf(xml);
      const who = domainOwner(meta, owner.fleetId);
      if (summary && xml && who.kind !== 'ours') {
        actual.foreign = { owner: describeOwner(who), importable: who.kind === 'unknown' };
        const foreignDisk = domainProjection(xml).disk;
        if (foreignDisk !== undefined) actual.foreign.disk = foreignDisk;
      } else if (summary && xml) {
        actual.domain = {
          uuid: summary.uuid,
          state: summary.state,
          ...(meta && { specHash: meta.specHash }),
          resources: domainProjection(xml),
          autostart: await hv.autostart(d.domain),
        };
      }
      if (runtime) {
        actual.phase = runtime.phase;
        if (runtime.disk) actual.recordedBase = runtime.disk.base;
        if (runtime.hostKey) actual.hostKey = runtime.hostKey;
        actual.provisioned = runtime.provision?.done === 'ready';
      }
      return actual;
    }),
  );
}
