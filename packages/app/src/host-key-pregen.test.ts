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
  it('makes a key for each local agent without a disk or a key yet and pins it in state.json', async () => {
    const s = stores();
    expect(await pregenerateHostKeys(run(), s)).toEqual(['ap-new']);
    expect(s.hostKeys.keys.get('ap-new')).toEqual({
      privateKey: 'PRIVATE ap-new',
      publicKey: 'ssh-ed25519 K1',
    });
    expect(s.state.state.agents['ap-new']).toMatchObject({ phase: 'declared', hostKey: 'ssh-ed25519 K1' });
    // The others keep what they have: a disk's own key, a key made before, a remote host's own.
    expect(s.hostKeys.keys.get('ap-keyed')?.publicKey).toBe('ssh-ed25519 KEPT');
    expect([...s.hostKeys.keys.keys()].sort()).toEqual(['ap-keyed', 'ap-new']);
    expect(Object.keys(s.state.state.agents).sort()).toEqual(['ap-booted', 'ap-new']);
    // Run again: nothing more to make.
    expect(await pregenerateHostKeys(run(), s)).toEqual([]);
  });

  it('only the named agents', async () => {
    const s = stores();
    expect(await pregenerateHostKeys(run(['ap-disk', 'ap-far']), s)).toEqual([]);
    expect(s.hostKeys.keys.size).toBe(1);
  });
});
