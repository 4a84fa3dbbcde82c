import { emptyLedger } from '@agentfleet/core/ledger';
import { agentDisk, type FleetRun } from '@agentfleet/engine';
import { MemoryDisks, MemoryHostKeys, MemoryStateStore } from '@agentfleet/testing/engine-deps';
import { fleetOf } from '@agentfleet/testing/fleets';
import { describe, expect, it } from 'vitest';
import { pregenerateHostKeys } from './host-key-pregen.js';

// On the in-memory stores: no state dir is read or written. With real files and a real guest
// taking the key through fw_cfg: test/e2e/provision-pregen.e2e.test.ts.
const run = (names: string[] = []): FleetRun => ({
  fleet: fleetOf({
    'ap-new': '',
    'ap-disk': '',
    'ap-booted': '',
    'ap-keyed': '',
    'ap-far': 'libvirtUri: qemu+ssh://far.example.org/system\nnetwork: none',
  }),
  ledger: emptyLedger(),
  fleetDir: '/fleet',
  stateDir: '/state',
  baseImage: '/img/base.qcow2',
  identityFile: '/fleet/id',
  names,
});

function stores() {
  const disks = new MemoryDisks();
  const disk = agentDisk('/state', 'ap-disk');
  disks.disks.set(disk, { path: disk, mode: 'overlay', base: '/img/base.qcow2' });
  const state = new MemoryStateStore();
  state.state.agents['ap-booted'] = {
    phase: 'disk',
    disk: { path: '/elsewhere/ap-booted.qcow2', mode: 'copy', base: disks.identity },
    updatedAt: 'x',
  };
  const hostKeys = new MemoryHostKeys();
  hostKeys.keys.set('ap-keyed', { privateKey: 'PRIVATE kept', publicKey: 'ssh-ed25519 KEPT' });
  let n = 0;
  const makeKeyPair = async (agent: string) => ({
    privateKey: `PRIVATE ${agent}`,
    publicKey: `ssh-ed25519 K${++n}`,
  });
  return { disks, state, hostKeys, makeKeyPair };
}

describe('pregenerateHostKeys', () => {
  it('makes a key for each agent without a disk or a key yet and pins it in state.json', async () => {
    const s = stores();
    expect(await pregenerateHostKeys(run(), s)).toEqual(['ap-far', 'ap-new']);
    expect(s.hostKeys.keys.get('ap-new')).toEqual({
      privateKey: 'PRIVATE ap-new',
      publicKey: 'ssh-ed25519 K2',
    });
    expect(s.state.state.agents['ap-new']).toMatchObject({ phase: 'declared', hostKey: 'ssh-ed25519 K2' });
    // The others keep what they have: a disk's own key, a key made before.
    expect(s.hostKeys.keys.get('ap-keyed')?.publicKey).toBe('ssh-ed25519 KEPT');
    expect([...s.hostKeys.keys.keys()].sort()).toEqual(['ap-far', 'ap-keyed', 'ap-new']);
    expect(Object.keys(s.state.state.agents).sort()).toEqual(['ap-booted', 'ap-far', 'ap-new']);
    // Run again: nothing more to make.
    expect(await pregenerateHostKeys(run(), s)).toEqual([]);
  });

  it('nothing for an agent blocked by a held port: it does not start in this run', async () => {
    const s = stores();
    const held = { ...run(), held: { 'ap-new': ['SSH port 2223 of agent ap-new is in use by process 7'] } };
    expect(await pregenerateHostKeys(held, s)).toEqual(['ap-far']);
    expect(s.hostKeys.keys.has('ap-new')).toBe(false);
    expect(s.state.state.agents['ap-new']).toBeUndefined();
  });

  it('only the named agents', async () => {
    const s = stores();
    expect(await pregenerateHostKeys(run(['ap-disk', 'ap-keyed']), s)).toEqual([]);
    expect(s.hostKeys.keys.size).toBe(1);
  });

  it("a remote agent whose volume exists on its host (the fleet's pool there) keeps its guest's own key", async () => {
    const s = stores();
    const volume = '/var/lib/libvirt/images/agentfleet-f1/agent-ap-far.qcow2';
    s.disks.disks.set(volume, { path: volume, mode: 'overlay', base: '/img/base.qcow2' });
    const withId = { ...run(['ap-far']), ledger: { ...emptyLedger(), fleetId: 'f1' } };
    expect(await pregenerateHostKeys(withId, s)).toEqual([]);
    s.disks.disks.delete(volume);
    expect(await pregenerateHostKeys(withId, s)).toEqual(['ap-far']);
  });
});
