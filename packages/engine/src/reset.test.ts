import { emptyFleetState, type FleetState } from '@agentfleet/core';
import { MemoryHostKeys } from '@agentfleet/testing/engine-deps';
import { beforeEach, describe, expect, it } from 'vitest';
import { GUEST_HOST_KEY, ResetRefusedError, resetAgentDisk } from './reset.js';

// Fakes of the ports; the same workflow runs on a real VM in test/e2e/day2.e2e.test.ts.
const PIN = 'ssh-ed25519 AAAApinned';
let hostKeys: MemoryHostKeys;
let calls: string[];
let state: FleetState;
let guestKey: { priv: string; pub: string; code: number };

beforeEach(() => {
  hostKeys = new MemoryHostKeys();
  calls = [];
  state = emptyFleetState();
  state.agents.drago = {
    phase: 'ssh-ready',
    hostKey: PIN,
    updatedAt: 'then',
    disk: {
      path: '/d/agent-drago.qcow2',
      mode: 'overlay',
      base: { path: '/b', size: 1, mtimeMs: 1, headSha256: 'x' },
    },
    startedAt: 'then',
  };
  guestKey = { priv: 'PRIVATE', pub: `${PIN} root@x`, code: 0 };
});

function deps(domainState: 'running' | 'shutoff' = 'running') {
  return {
    hypervisor: {
      listDomains: async () => [{ name: 'agent-drago', uuid: 'u', state: domainState }],
      destroy: async (n: string) => void calls.push(`destroy ${n}`),
    } as never,
    snapshots: {
      list: async () => [{ label: 's1', createdAt: '', state: 'running', description: null }],
      create: async () => {},
      revert: async () => {},
      delete: async (d: string, l: string) => void calls.push(`delete-snapshot ${d} ${l}`),
    },
    disks: { remove: async (p: string) => void calls.push(`remove ${p}`) } as never,
    state: {
      load: async () => structuredClone(state),
      save: async (s: FleetState) => {
        state = s;
      },
    },
    connector: {
      connect: async () => {
        if (domainState !== 'running') throw new Error('connection refused');
        return {
          hostKey: { type: 'ssh-ed25519', blob: 'AAAApinned' },
          exec: async (cmd: string, out?: (c: string, s: 'stdout' | 'stderr') => void) => {
            calls.push(`exec ${cmd}`);
            out?.(guestKey.priv, 'stdout');
            return guestKey.code;
          },
          close: async () => {},
        };
      },
    } as never,
    stateDir: '/state',
    hostKeys,
    publicKeyOf: () => guestKey.pub,
    sudo: true,
  };
}

const target = { agent: 'drago', domain: 'agent-drago' };

describe('resetAgentDisk', () => {
  it('takes the key from the guest first, then stops, drops snapshots and the disk, and resets progress', async () => {
    expect(await resetAgentDisk(deps(), target)).toEqual({ hostKey: PIN, took: 'guest' });
    expect(calls).toEqual([
      `exec sudo cat ${GUEST_HOST_KEY}`,
      'destroy agent-drago',
      'delete-snapshot agent-drago s1',
      'remove /d/agent-drago.qcow2',
    ]);
    expect(await hostKeys.read('drago')).toEqual({ privateKey: 'PRIVATE', publicKey: PIN });
    expect(state.agents.drago).toEqual({ phase: 'declared', hostKey: PIN, updatedAt: expect.any(String) });
  });

  it('uses a pre-generated key that matches the pin without asking the guest (works shut off)', async () => {
    await hostKeys.write('drago', { privateKey: 'P', publicKey: PIN });
    expect((await resetAgentDisk(deps('shutoff'), target)).took).toBe('kept');
    expect(calls).toEqual(['delete-snapshot agent-drago s1', 'remove /d/agent-drago.qcow2']);
  });

  it('refuses, touching nothing, when the key cannot be kept', async () => {
    // Shut off and no key on the host: nothing to read it from.
    await expect(resetAgentDisk(deps('shutoff'), target)).rejects.toThrow(/cannot reach it.*fleet up drago/);
    // The guest's key file is not the key it presents.
    guestKey.pub = 'ssh-ed25519 AAAAother';
    await expect(resetAgentDisk(deps(), target)).rejects.toBeInstanceOf(ResetRefusedError);
    // A pre-generated key that is not the pin.
    await hostKeys.write('drago', { privateKey: 'P', publicKey: 'ssh-ed25519 AAAAother' });
    await expect(resetAgentDisk(deps(), target)).rejects.toThrow(/not the pinned one/);
    // Never pinned: no identity to keep.
    delete state.agents.drago?.hostKey;
    await expect(resetAgentDisk(deps(), target)).rejects.toThrow(/no pinned host key/);
    expect(calls.filter((c) => !c.startsWith('exec'))).toEqual([]);
    expect(state.agents.drago?.phase).toBe('ssh-ready');
  });
});
