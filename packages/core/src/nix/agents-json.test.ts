import { describe, expect, it } from 'vitest';
import { agentsJson, type NixAgentInput } from './agents-json.js';

const drago: NixAgentInput = {
  name: 'drago',
  user: 'drago',
  git: { name: 'Drago', email: 'drago@example.org' },
  mail: { address: 'drago@example.org', passwordSecret: 'mail-drago' },
  tailscale: { tags: ['tag:agent'], authKeySecret: 'tailscale-authkey' },
  desktop: true,
  secrets: ['gh-token'],
};

const luce: NixAgentInput = {
  name: 'luce',
  user: 'luce',
  git: { name: 'Luce', email: 'luce@example.org' },
  desktop: false,
  secrets: [],
};

describe('agentsJson', () => {
  it('writes agents keyed by name, with sorted fields, 2-space indent and a trailing newline', () => {
    const text = agentsJson([luce, drago]);
    expect(text.endsWith('}\n')).toBe(true);
    const parsed = JSON.parse(text);
    expect(Object.keys(parsed)).toEqual(['agents', 'notice']);
    expect(Object.keys(parsed.agents)).toEqual(['drago', 'luce']);
    expect(Object.keys(parsed.agents.drago)).toEqual([
      'desktop',
      'git',
      'mail',
      'secrets',
      'tailscale',
      'user',
    ]);
    expect(text).toContain('\n  "agents": {\n    "drago": {\n      "desktop": true,');
  });

  it('is independent of input order', () => {
    expect(agentsJson([drago, luce])).toBe(agentsJson([luce, drago]));
  });

  it('adds the mail and tailscale secrets to the secrets the agent decrypts, sorted and once each', () => {
    const parsed = JSON.parse(agentsJson([{ ...drago, secrets: ['zeta', 'mail-drago', 'alpha'] }]));
    expect(parsed.agents.drago.secrets).toEqual(['alpha', 'mail-drago', 'tailscale-authkey', 'zeta']);
  });

  it('writes absent mail, tailscale and optional secrets as null', () => {
    const parsed = JSON.parse(
      agentsJson([
        luce,
        { ...drago, name: 'x', mail: { address: 'x@example.org' }, tailscale: { tags: [] } },
      ]),
    );
    expect(parsed.agents.luce.mail).toBeNull();
    expect(parsed.agents.luce.tailscale).toBeNull();
    expect(parsed.agents.x.mail).toEqual({ address: 'x@example.org', passwordSecret: null });
    expect(parsed.agents.x.tailscale).toEqual({ authKeySecret: null, tags: [] });
  });

  it('keeps the declared order of tailscale tags', () => {
    const parsed = JSON.parse(agentsJson([{ ...drago, tailscale: { tags: ['tag:b', 'tag:a'] } }]));
    expect(parsed.agents.drago.tailscale.tags).toEqual(['tag:b', 'tag:a']);
  });

  it('refuses two agents with one name', () => {
    expect(() => agentsJson([drago, { ...luce, name: 'drago' }])).toThrow(/"drago" appears twice/);
  });

  it('writes an empty fleet as an empty agents object', () => {
    expect(JSON.parse(agentsJson([])).agents).toEqual({});
  });
});
