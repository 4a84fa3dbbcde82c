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
      'shares',
      'shellAliases',
      'sudo',
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
    expect(parsed.agents.x.mail).toEqual({
      address: 'x@example.org',
      imap: null,
      passwordSecret: null,
      smtp: null,
    });
    expect(parsed.agents.x.tailscale).toEqual({ authKeySecret: null, loginServer: null, tags: [] });
    expect(parsed.agents.x.sudo).toBe(false);
    expect(parsed.agents.x.shellAliases).toEqual({});
    expect(parsed.agents.x.shares).toEqual([]);
  });

  it('writes shares as the guest mounts them: tag, mount point, mode; never the host directory', () => {
    const shares = [{ source: '/home/u/secret-path', tag: 'p', target: '/mnt/p', readOnly: true }];
    const text = agentsJson([{ ...drago, shares }]);
    expect(JSON.parse(text).agents.drago.shares).toEqual([{ readOnly: true, tag: 'p', target: '/mnt/p' }]);
    expect(text).not.toContain('secret-path');
  });

  it('writes the seed options an agent sets: sudo, aliases (sorted), mail servers, tailscale login server', () => {
    const parsed = JSON.parse(
      agentsJson([
        {
          ...drago,
          sudo: true,
          shellAliases: { z: 'zoxide', k: 'kubectl' },
          mail: {
            address: 'd@example.org',
            imap: { host: 'imap.example.org' },
            smtp: { host: 's.example.org', port: 587 },
          },
          tailscale: { tags: [], loginServer: 'https://hs.example.org' },
        },
      ]),
    );
    expect(parsed.agents.drago.sudo).toBe(true);
    expect(Object.keys(parsed.agents.drago.shellAliases)).toEqual(['k', 'z']);
    expect(parsed.agents.drago.mail.imap).toEqual({ host: 'imap.example.org', port: null });
    expect(parsed.agents.drago.mail.smtp).toEqual({ host: 's.example.org', port: 587 });
    expect(parsed.agents.drago.tailscale.loginServer).toBe('https://hs.example.org');
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
