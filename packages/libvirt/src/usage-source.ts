// core's UsageSource and LifecycleSource on a libvirt connection: the field names of
// virConnectGetAllDomainStats and the lifecycle event numbers stay in this package.
import type {
  LifecycleKind,
  LifecycleNotice,
  LifecycleSource,
  UsageSample,
  UsageSource,
} from '@agentfleet/core/usage';
import type { Connection } from './connection.js';
import { domainStateName, LifecycleEventType } from './constants.js';
import { type DomainStatsRecord, DomainStatsTypes } from './domain-stats.js';

const TYPES =
  DomainStatsTypes.State |
  DomainStatsTypes.CpuTotal |
  DomainStatsTypes.Balloon |
  DomainStatsTypes.Vcpu |
  DomainStatsTypes.Block;

const KINDS: Record<LifecycleEventType, LifecycleKind> = {
  [LifecycleEventType.Defined]: 'defined',
  [LifecycleEventType.Undefined]: 'undefined',
  [LifecycleEventType.Started]: 'started',
  [LifecycleEventType.Suspended]: 'suspended',
  [LifecycleEventType.Resumed]: 'resumed',
  [LifecycleEventType.Stopped]: 'stopped',
  [LifecycleEventType.Shutdown]: 'shutdown',
  [LifecycleEventType.PmSuspended]: 'pmsuspended',
  [LifecycleEventType.Crashed]: 'crashed',
};

export class LibvirtUsage implements UsageSource, LifecycleSource {
  constructor(
    private readonly connection: Connection,
    private readonly now: () => number = Date.now,
  ) {}

  async usage(): Promise<UsageSample[]> {
    const records = await this.connection.domainStats(TYPES);
    const at = this.now();
    return records.map((r) => sampleOf(r, at));
  }

  onLifecycle(listener: (ev: LifecycleNotice) => void): Promise<{ close(): Promise<void> }> {
    return this.connection.onLifecycle((ev) => {
      const kind = KINDS[ev.event];
      if (kind) listener({ domain: ev.domain, kind });
    });
  }
}

/** libvirt's stats record as a sample; the first block device is the agent's own disk. */
export function sampleOf(r: DomainStatsRecord, atMs: number): UsageSample {
  const num = (key: string): number | null => {
    const v = r.params[key];
    return typeof v === 'number' ? v : null;
  };
  return {
    domain: r.name,
    state: domainStateName(num('state.state') ?? 0),
    atMs,
    cpuTimeNs: num('cpu.time'),
    vcpus: num('vcpu.current'),
    memoryKiB: num('balloon.current'),
    rssKiB: num('balloon.rss'),
    diskAllocatedBytes: num('block.0.allocation'),
    diskCapacityBytes: num('block.0.capacity'),
  };
}
