import { completeStep, failStep } from '@agentfleet/core';
import { MemoryStateStore } from '@agentfleet/testing/engine-deps';
import { describe, expect, it } from 'vitest';
import { StateBook } from '../state-book.js';
import { bookProvisionStore } from './book-store.js';

const at = '2026-11-29T12:00:00.000Z';

describe('bookProvisionStore', () => {
  it("a re-pin (--rekey) takes the guest's own key: the hand-over flag goes with the old pin", async () => {
    const state = new MemoryStateStore();
    state.state.agents.drago = {
      phase: 'ssh-ready',
      hostKey: 'ssh-ed25519 AAAAmade',
      hostKeyHandedOver: true,
      updatedAt: at,
    };
    const store = bookProvisionStore(await StateBook.open(state));
    expect(await store.hostKeyHandedOver('drago')).toBe(true);
    expect(await store.hostKeyHandedOver('luce')).toBe(false);
    await store.pinHostKey('drago', 'ssh-ed25519 AAAAnew');
    expect(await store.hostKeyHandedOver('drago')).toBe(false);
    expect(state.state.agents.drago).toMatchObject({ hostKey: 'ssh-ed25519 AAAAnew' });
    expect(state.state.agents.drago?.hostKeyHandedOver).toBeUndefined();
  });

  it("clears a failed run's error once provisioning reaches ready, and only then", async () => {
    const state = new MemoryStateStore();
    state.state.agents.drago = {
      phase: 'ssh-ready',
      hostKey: 'ssh-ed25519 AAAA',
      updatedAt: at,
      lastError: 'phase1 failed: nixos-rebuild exited 1',
      provision: { failure: { step: 'phase1', message: 'exited 1', at } },
    };
    const store = bookProvisionStore(await StateBook.open(state));
    let progress = await store.update('drago', (p) => completeStep(p, 'phase1', at));
    // A step done is not the agent settled: a later one may still fail.
    expect(state.state.agents.drago?.lastError).toBe('phase1 failed: nixos-rebuild exited 1');
    for (const step of ['hostkey', 'rekeyed', 'phase2'] as const)
      progress = await store.update('drago', (p) => completeStep(p, step, at));
    await store.update('drago', (p) => failStep(p, { step: 'ready', message: 'verify failed' }, at));
    expect(state.state.agents.drago?.lastError).toBeDefined();
    await store.update('drago', (p) => completeStep(p, 'ready', at));
    expect(state.state.agents.drago?.lastError).toBeUndefined();
    expect(state.state.agents.drago?.provision).toEqual({ done: 'ready', updatedAt: at });
    expect(progress.done).toBe('phase2');
  });
});
