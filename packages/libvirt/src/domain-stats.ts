// virConnectGetAllDomainStats, typed: the counters `fleet status` samples for every domain in one
// daemon round trip.
import { withCallerStack } from './errors.js';
import type { NativeConnection } from './native.js';

/** virDomainStatsTypes: which groups of counters to fetch. */
export enum DomainStatsTypes {
  State = 1 << 0,
  CpuTotal = 1 << 1,
  Balloon = 1 << 2,
  Vcpu = 1 << 3,
  Interface = 1 << 4,
  Block = 1 << 5,
}

/** virConnectGetAllDomainStatsFlags (the list filters are ListDomainsFlags'). */
export enum DomainStatsFlags {
  Active = 1 << 0,
  /** Skip domains whose stats would need a job another call holds, instead of waiting. */
  NoWait = 1 << 29,
}

/** One domain's record: libvirt's field names ("cpu.time", "block.0.allocation", ...) as they are. */
export interface DomainStatsRecord {
  name: string;
  uuid: string;
  params: Record<string, number | boolean | string>;
}

export async function allDomainStats(
  native: NativeConnection,
  types: number,
  flags: number,
): Promise<DomainStatsRecord[]> {
  return withCallerStack(() => native.getAllDomainStats(types, flags));
}
