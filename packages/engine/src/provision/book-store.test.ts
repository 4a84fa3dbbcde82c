import { MemoryStateStore } from '@agentfleet/testing/engine-deps';
import { describe, expect, it } from 'vitest';
import { StateBook } from '../state-book.js';
import { bookProvisionStore } from './book-store.js';

describe('bookProvisionStore', () => {
  it("a re-pin (--rekey) takes the guest's own key: the hand-over flag goes with the old pin", async () => {
    const state = new MemoryStateStore();
    const at = new Date().toISOString();
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
});
