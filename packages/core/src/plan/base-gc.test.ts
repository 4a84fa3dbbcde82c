// Which base volumes a plan leaves unused on remote hosts: never one a remaining disk is backed by.
import { describe, expect, it } from 'vitest';
import { type BaseVolume, judgeBases } from './base-gc.js';
import type { AgentAction, DesiredAgent, Plan } from './types.js';

const B = 'qemu+ssh://root@hostb/system';
const POOL = '/var/lib/libvirt/images/agentfleet-f';
const OLD = 'base-0000000000000000000000000000000000000000000000000000000000000000.qcow2';
const NEW = 'base-1111111111111111111111111111111111111111111111111111111111111111.qcow2';
const disk = (agent: string) => `${POOL}/agent-${agent}.qcow2`;

function action(agent: string, steps: AgentAction['steps']): AgentAction {
  const after = { name: agent, uri: B, disk: { path: disk(agent) } } as DesiredAgent;
  return {
    agent,
    kind: steps.includes('delete-disk') ? 'delete' : 'noop',
    steps,
    reasons: [],
    changes: [],
    after,
  };
}
const plan = (...actions: AgentAction[]): Plan => ({ goal: 'purge', actions });

describe('judgeBases', () => {
  it('keeps a base an overlay stays on; frees it when the plan deletes its last overlay and no agent stays there', () => {
    const bases: BaseVolume[] = [{ uri: B, host: 'there', volume: OLD, users: [disk('a'), disk('b')] }];
    const declared = [
      { name: 'a', uri: B },
      { name: 'b', uri: B },
    ];
    expect(judgeBases(bases, plan(action('a', ['delete-disk'])), declared)).toEqual({
      unused: [],
      unlessCurrent: [],
    });
    expect(
      judgeBases(bases, plan(action('a', ['delete-disk']), action('b', ['delete-disk'])), declared),
    ).toEqual({
      unused: [{ uri: B, host: 'there', volume: OLD }],
      unlessCurrent: [],
    });
  });

  it('an unused base on a host an agent stays on is freed only if it is not the current image (the caller hashes)', () => {
    // After a baseImage change: a's overlay is on the new base, the old one backs nothing; c has a copy (no backing).
    const bases: BaseVolume[] = [
      { uri: B, volume: OLD, users: [] },
      { uri: B, volume: NEW, users: [disk('a')] },
    ];
    const declared = [
      { name: 'a', uri: B },
      { name: 'c', uri: B },
    ];
    expect(judgeBases(bases, plan(action('c', ['delete-disk'])), declared)).toEqual({
      unused: [],
      unlessCurrent: [{ uri: B, volume: OLD }],
    });
  });

  it("an orphan's purged disk counts as deleted; a base on a host with no declared agent is unused outright", () => {
    const orphan: AgentAction = {
      agent: 'o',
      kind: 'delete',
      steps: ['delete-disk'],
      reasons: [],
      changes: [],
      orphan: { agent: 'o', domain: 'agent-o', uri: B, state: 'shutoff', disk: disk('o') },
    };
    const bases: BaseVolume[] = [{ uri: B, volume: OLD, users: [disk('o')] }];
    expect(judgeBases(bases, plan(orphan), [])).toEqual({
      unused: [{ uri: B, volume: OLD }],
      unlessCurrent: [],
    });
    expect(judgeBases(bases, plan(), [])).toEqual({ unused: [], unlessCurrent: [] });
  });
});
