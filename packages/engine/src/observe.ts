import {
  type ActualAgent,
  type DesiredAgent,
  type Disks,
  type DomainSummary,
  domainMetadataOf,
  domainProjection,
  type Hypervisor,
} from '@agentfleet/core';
import type { StateBook } from './state-book.js';

/** What exists for each desired agent: its domain (state, metadata, fields), disk, recorded phase. */
export async function observe(
  desired: readonly DesiredAgent[],
  connect: (uri: string) => Promise<Hypervisor>,
  disks: Disks,
  state: StateBook,
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
      const disk = await disks.inspect(d.disk.path);
      const runtime = state.get(d.name);
      const actual: ActualAgent = {
        name: d.name,
        disk: {
          exists: disk.exists,
          ...(disk.backingFile !== undefined && { backingFile: disk.backingFile }),
        },
      };
      if (summary && xml) {
        const meta = domainMetadataOf(xml);
        actual.domain = {
          uuid: summary.uuid,
          state: summary.state,
          ...(meta && { specHash: meta.specHash }),
          resources: domainProjection(xml),
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
