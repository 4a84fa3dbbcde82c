import { HypervisorError, type SnapshotInfo, type SnapshotStore } from '@agentfleet/core';
import { describe, expect, it } from 'vitest';
import {
  deleteSnapshot,
  listSnapshots,
  revertSnapshot,
  SnapshotUsageError,
  takeSnapshot,
} from './snapshots.js';

/** In memory; the same workflows run on libvirt in test/e2e/day2.e2e.test.ts. */
function memoryStore() {
  const snaps = new Map<string, SnapshotInfo>();
  const calls: string[] = [];
  let clock = 0;
  const store: SnapshotStore = {
    list: async () => [...snaps.values()],
    create: async (domain, label, description) => {
      calls.push(`create ${domain} ${label}`);
      snaps.set(label, {
        label,
        createdAt: new Date(++clock * 1000).toISOString(),
        state: 'running',
        description,
      });
    },
    revert: async (domain, label) => void calls.push(`revert ${domain} ${label}`),
    delete: async (domain, label) => {
      calls.push(`delete ${domain} ${label}`);
      snaps.delete(label);
    },
  };
  return { store, calls };
}

const a = { agent: 'drago', domain: 'agent-drago' };

describe('snapshot workflows', () => {
  it('takes, lists, reverts and deletes by label', async () => {
    const { store, calls } = memoryStore();
    expect((await takeSnapshot(store, a, 'before-upgrade')).label).toBe('before-upgrade');
    expect((await listSnapshots(store, a)).map((s) => s.label)).toEqual(['before-upgrade']);
    await revertSnapshot(store, a, 'before-upgrade');
    await deleteSnapshot(store, a, 'before-upgrade');
    expect(calls).toEqual([
      'create agent-drago before-upgrade',
      'revert agent-drago before-upgrade',
      'delete agent-drago before-upgrade',
    ]);
    expect(await listSnapshots(store, a)).toEqual([]);
  });

  it('labels an unnamed snapshot with the UTC time', async () => {
    const { store } = memoryStore();
    const s = await takeSnapshot(store, a, undefined, new Date('2026-11-29T08:15:00Z'));
    expect(s.label).toBe('20261129-081500');
  });

  it('refuses a duplicate, a bad label and an unknown label, naming the remedy, and changes nothing', async () => {
    const { store, calls } = memoryStore();
    await takeSnapshot(store, a, 'one');
    await expect(takeSnapshot(store, a, 'one')).rejects.toThrow(/already has a snapshot 'one'.*--delete/);
    await expect(takeSnapshot(store, a, '../x')).rejects.toBeInstanceOf(SnapshotUsageError);
    await expect(revertSnapshot(store, a, 'two')).rejects.toThrow(
      "agent 'drago' has no snapshot 'two' (snapshots: one; see fleet snapshots drago)",
    );
    await expect(deleteSnapshot(store, a, 'two')).rejects.toBeInstanceOf(SnapshotUsageError);
    expect(calls).toEqual(['create agent-drago one']);
  });

  it('an agent never brought up has no domain: its remedy, not libvirt\'s "Domain not found"', async () => {
    // What libvirt's snapshot list says about a domain that does not exist (the real one: json-coverage test).
    const store: SnapshotStore = {
      ...memoryStore().store,
      list: async () => {
        throw new HypervisorError('no-such-domain', 'virDomainLookupByName: Domain not found');
      },
    };
    for (const attempt of [
      listSnapshots(store, a),
      takeSnapshot(store, a, 'one'),
      revertSnapshot(store, a, 'one'),
      deleteSnapshot(store, a, 'one'),
    ]) {
      await expect(attempt).rejects.toMatchObject({
        message: 'agent drago has no domain yet',
        remedy: 'run `fleet up drago`',
      });
    }
  });
});
