import type { LifecycleNotice } from '@agentfleet/core/usage';
import { describe, expect, it } from 'vitest';
import { eventsOf } from './status.js';

describe('status --watch events', () => {
  it("passes on only this fleet's domains: another fleet's VM stopping on the same host is not news", async () => {
    let emit: (ev: LifecycleNotice) => void = () => {};
    let closed = 0;
    const host = {
      onLifecycle: async (listener: (ev: LifecycleNotice) => void) => {
        emit = listener;
        return { close: async () => void closed++ };
      },
    };
    const seen: LifecycleNotice[] = [];
    const sub = await eventsOf(host, new Set(['agent-drago'])).onLifecycle((ev) => seen.push(ev));
    emit({ domain: 'agent-dbp8h3vd', kind: 'stopped' });
    emit({ domain: 'agent-drago', kind: 'started' });
    emit({ domain: 'other-drago', kind: 'stopped' });
    expect(seen).toEqual([{ domain: 'agent-drago', kind: 'started' }]);
    await sub.close();
    expect(closed).toBe(1);
  });
});
