import type { LifecycleNotice, UsageSample } from '@agentfleet/core';
import { usageBetween } from '@agentfleet/core';
import { describe, expect, it } from 'vitest';
import { measureUsage, type UsageTable, type WatchReason, watchUsage } from './agent-usage.js';

const sample = (over: Partial<UsageSample>): UsageSample => ({
  domain: 'agent-a',
  state: 'running',
  atMs: 0,
  cpuTimeNs: 0,
  vcpus: 1,
  memoryKiB: 262144,
  rssKiB: 200000,
  diskAllocatedBytes: 1 << 20,
  diskCapacityBytes: 1 << 26,
  ...over,
});

/** Counters that advance by `cpuPerCall` ns of CPU and 1 s of wall time per call. */
function counters(cpuPerCall: number, state: () => UsageSample['state'] = () => 'running') {
  let calls = 0;
  return {
    calls: () => calls,
    usage: async () => {
      calls++;
      return [sample({ atMs: calls * 1000, cpuTimeNs: calls * cpuPerCall, state: state() })];
    },
  };
}

describe('usageBetween', () => {
  it('is the share of the vCPUs used between two samples', () => {
    const prev = sample({ atMs: 1000, cpuTimeNs: 1e9 });
    expect(usageBetween(prev, sample({ atMs: 3000, cpuTimeNs: 2e9, vcpus: 2 })).cpuPercent).toBe(25);
    expect(usageBetween(prev, sample({ atMs: 2000, cpuTimeNs: 1.5e9 })).cpuPercent).toBe(50);
  });

  it('has no CPU figure from one sample, after a restart, or for a stopped domain', () => {
    const cur = sample({ atMs: 2000, cpuTimeNs: 5e8 });
    expect(usageBetween(undefined, cur).cpuPercent).toBeNull();
    expect(usageBetween(sample({ atMs: 1000, cpuTimeNs: 9e8 }), cur).cpuPercent).toBeNull();
    const off = sample({ state: 'shutoff', cpuTimeNs: null, memoryKiB: null });
    expect(usageBetween(sample({}), off)).toMatchObject({
      cpuPercent: null,
      memoryKiB: null,
      state: 'shutoff',
    });
  });

  it('keeps memory and disk figures as reported', () => {
    expect(usageBetween(undefined, sample({}))).toMatchObject({
      memoryKiB: 262144,
      rssKiB: 200000,
      diskUsedBytes: 1 << 20,
      diskCapacityBytes: 1 << 26,
    });
  });
});

describe('measureUsage', () => {
  it('samples twice when something runs', async () => {
    const src = counters(5e8);
    const table = await measureUsage([src], 1);
    expect(src.calls()).toBe(2);
    expect(table.get('agent-a')?.cpuPercent).toBe(50);
  });

  it('samples once when nothing runs', async () => {
    const src = counters(0, () => 'shutoff');
    await measureUsage([src], 1);
    expect(src.calls()).toBe(1);
  });
});

describe('watchUsage', () => {
  it('refreshes at start, on every lifecycle event and on the timer, and unsubscribes on abort', async () => {
    let state: UsageSample['state'] = 'running';
    const src = counters(1e8, () => state);
    let emit: ((ev: LifecycleNotice) => void) | undefined;
    let closed = 0;
    const events = {
      onLifecycle: async (l: (ev: LifecycleNotice) => void) => {
        emit = l;
        return { close: async () => void closed++ };
      },
    };
    const ctl = new AbortController();
    const seen: { reason: WatchReason; table: UsageTable }[] = [];
    const done = watchUsage({
      hosts: [{ usage: src, events }],
      intervalMs: 60_000,
      signal: ctl.signal,
      onUpdate: (table, reason) => {
        seen.push({ reason, table });
        if (seen.length === 1) {
          state = 'shutoff';
          emit?.({ domain: 'agent-a', kind: 'stopped' });
        } else ctl.abort();
      },
    });
    await done;
    expect(seen.map((s) => s.reason)).toEqual([
      { kind: 'tick' },
      { kind: 'event', event: { domain: 'agent-a', kind: 'stopped' } },
    ]);
    expect(seen[1]?.table.get('agent-a')?.state).toBe('shutoff');
    expect(closed).toBe(1);
  });

  it('refreshes on the timer without events', async () => {
    const src = counters(1e8);
    const ctl = new AbortController();
    const reasons: WatchReason[] = [];
    await watchUsage({
      hosts: [{ usage: src, events: { onLifecycle: async () => ({ close: async () => {} }) } }],
      intervalMs: 5,
      signal: ctl.signal,
      onUpdate: (table, reason) => {
        reasons.push(reason);
        if (reasons.length === 3) ctl.abort();
        expect(table.has('agent-a')).toBe(true);
      },
    });
    expect(reasons).toEqual([{ kind: 'tick' }, { kind: 'tick' }, { kind: 'tick' }]);
  });
});
