// Unused base volumes through runFleet, on fake base volumes (VolumeDisks lists and removes them on a real libvirtd
// in volume-disks.integration.test.ts; the multihost e2e test purges the last user of one on a second host).
import type { BaseVolume, BaseVolumes } from '@agentfleet/core';
import { agentYaml, fleetRun, fleetYaml, testWorld } from '@agentfleet/testing/engine-deps';
import { describe, expect, it } from 'vitest';
import { runFleet } from './engine.js';

const B = 'qemu+ssh://root@hostb.example/system';
const OLD = `base-${'0'.repeat(64)}.qcow2`;
const NEW = `base-${'1'.repeat(64)}.qcow2`;
const up = { goal: 'up' as const, dryRun: false, concurrency: 2, pollMs: 1 };

/** Base volumes on B: what `list` says, what `remove` was asked; the current base image is NEW (hashed on demand). */
function fakeBases(found: BaseVolume[]) {
  const removed: string[] = [];
  let hashed = 0;
  const bases: BaseVolumes = {
    list: async (uri) => found.filter((b) => b.uri === uri),
    nameOf: async () => {
      hashed++;
      return NEW;
    },
    remove: async (_uri, volume) => {
      removed.push(volume);
    },
  };
  return { bases, removed, hashed: () => hashed };
}

describe('runFleet and unused base volumes', () => {
  it('after a baseImage change, up of the fleet shows and removes the old base no disk uses; the current one stays', async () => {
    const w = testWorld();
    const run = fleetRun({ drago: agentYaml('drago') }, fleetYaml(`libvirtUri: '${B}'\nnetwork: none`));
    const f = fakeBases([
      { uri: B, volume: OLD, users: [] },
      { uri: B, volume: NEW, users: [] },
    ]);
    w.deps.disks.bases = f.bases;
    const r = await runFleet(run, w.deps, up);
    expect(r.plan.unusedBases).toEqual([{ uri: B, volume: OLD }]);
    expect(f.removed).toEqual([OLD]);
    expect(f.hashed()).toBe(1);
  });

  it('never one a disk stays on; up of named agents collects nothing; with no agent left on the host, no hashing', async () => {
    const w = testWorld();
    const run = fleetRun({ drago: agentYaml('drago') }, fleetYaml(`libvirtUri: '${B}'\nnetwork: none`));
    const f = fakeBases([
      { uri: B, volume: OLD, users: ['/var/lib/libvirt/images/agentfleet-x/agent-luce.qcow2'] },
    ]);
    w.deps.disks.bases = f.bases;
    expect((await runFleet(run, w.deps, up)).plan.unusedBases).toBeUndefined();
    const named = fleetRun({ drago: agentYaml('drago') }, fleetYaml(`libvirtUri: '${B}'\nnetwork: none`), [
      'drago',
    ]);
    w.deps.disks.bases = fakeBases([{ uri: B, volume: OLD, users: [] }]).bases;
    expect((await runFleet(named, w.deps, up)).plan.unusedBases).toBeUndefined();
    // The fleet's only agent on B purged: its disk was the last user, and nothing will be made there again.
    const purge = fakeBases([{ uri: B, volume: NEW, users: [] }]);
    w.deps.disks.bases = purge.bases;
    const r = await runFleet(named, w.deps, { ...up, goal: 'purge' });
    expect(r.plan.unusedBases).toEqual([{ uri: B, volume: NEW }]);
    expect(purge.removed).toEqual([NEW]);
    expect(purge.hashed()).toBe(0);
  });
});
