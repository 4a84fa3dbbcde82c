// Resource use of running agents, from two samples of the hypervisor's counters. Pure: the
// libvirt adapter produces the samples (virConnectGetAllDomainStats), the engine times them.
import type { DomainState } from './hypervisor.js';

/** One domain's counters at one instant; null where the hypervisor reports nothing (shut off). */
export interface UsageSample {
  domain: string;
  state: DomainState;
  /** When the sample was taken (ms, any monotonic-enough clock shared by both samples). */
  atMs: number;
  /** CPU time used by all vCPUs and the emulator since start. */
  cpuTimeNs: number | null;
  vcpus: number | null;
  /** Memory given to the guest (balloon). */
  memoryKiB: number | null;
  /** Resident memory of the QEMU process on the host. */
  rssKiB: number | null;
  /** Bytes of the agent's first disk allocated on the host (its own file, not the base). */
  diskAllocatedBytes: number | null;
  /** Virtual size of that disk as the guest sees it. */
  diskCapacityBytes: number | null;
}

/** Counters of every domain on one libvirt host. */
export interface UsageSource {
  usage(): Promise<UsageSample[]>;
}

export type LifecycleKind =
  | 'defined'
  | 'undefined'
  | 'started'
  | 'suspended'
  | 'resumed'
  | 'stopped'
  | 'shutdown'
  | 'pmsuspended'
  | 'crashed';

export interface LifecycleNotice {
  domain: string;
  kind: LifecycleKind;
}

/** Lifecycle events of one libvirt host, pushed as they happen. */
export interface LifecycleSource {
  onLifecycle(listener: (ev: LifecycleNotice) => void): Promise<{ close(): Promise<void> }>;
}

export interface AgentUsage {
  state: DomainState;
  /** Share of the agent's vCPUs used between the two samples, 0-100; null without two samples. */
  cpuPercent: number | null;
  memoryKiB: number | null;
  rssKiB: number | null;
  diskUsedBytes: number | null;
  diskCapacityBytes: number | null;
}

/**
 * Usage at `cur`, with CPU % over the time since `prev` (the same domain's earlier sample). A
 * restart in between (CPU time went down) or a stopped domain has no CPU figure.
 */
export function usageBetween(prev: UsageSample | undefined, cur: UsageSample): AgentUsage {
  let cpuPercent: number | null = null;
  if (prev && prev.cpuTimeNs !== null && cur.cpuTimeNs !== null && cur.cpuTimeNs >= prev.cpuTimeNs) {
    const wallNs = (cur.atMs - prev.atMs) * 1e6;
    const cores = cur.vcpus ?? 1;
    if (wallNs > 0 && cores > 0) {
      cpuPercent = Math.min(100, Math.round(((cur.cpuTimeNs - prev.cpuTimeNs) / wallNs / cores) * 1000) / 10);
    }
  }
  return {
    state: cur.state,
    cpuPercent,
    memoryKiB: cur.memoryKiB,
    rssKiB: cur.rssKiB,
    diskUsedBytes: cur.diskAllocatedBytes,
    diskCapacityBytes: cur.diskCapacityBytes,
  };
}
