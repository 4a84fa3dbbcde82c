import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLog } from '@agentfleet/engine';
import { afterAll, describe, expect, it } from 'vitest';
import { purgeWork } from './host-keys.js';
import { removalOf, removalWork } from './remove.js';

// What destroy --purge and remove show with their plan. Doing it: fleet-cli.integration.test.ts
// (remove) and test/e2e/fleet.e2e.test.ts (destroy --purge).
const dir = mkdtempSync('/tmp/app-follow-ups-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'agents'));
mkdirSync(join(dir, 'secrets', 'hosts'), { recursive: true });
writeFileSync(join(dir, 'agents', 'fleet.yaml'), 'libvirtUri: test:///default\n');
for (const a of ['ap-a', 'ap-b'])
  writeFileSync(join(dir, 'agents', `${a}.yaml`), 'git: { email: a@example.org }\n');
writeFileSync(join(dir, 'secrets', 'hosts', 'ap-a.pub'), 'ssh-ed25519 AAAA\n');
const ctx = { dir, log: silentLog };

describe('follow-ups shown with the plan', () => {
  it('a purge retires the committed host keys of the agents that have one', () => {
    expect(purgeWork(ctx, ['ap-a', 'ap-b']).followUps).toEqual([
      {
        kind: 'retire-host-keys',
        agents: ['ap-a'],
        reasons: ['delete secrets/hosts/ap-a.pub and re-encrypt the secrets that list it without it'],
      },
    ]);
    expect(purgeWork(ctx, ['ap-b']).followUps).toEqual([]);
  });

  it('remove retires the host key, then forgets the agent; without --purge its provisioning too', () => {
    const removal = removalOf(ctx, 'ap-a', 'agents/ap-a.yaml');
    expect(removal.remaining.agents.map((a) => a.name)).toEqual(['ap-b']);
    const kept = removalWork(ctx, removal, false).followUps;
    expect(kept.map((f) => f.kind)).toEqual(['retire-host-keys', 'forget-agent']);
    expect(kept[1]).toEqual({
      kind: 'forget-agent',
      agent: 'ap-a',
      file: 'agents/ap-a.yaml',
      reasons: [
        'delete agents/ap-a.yaml, its ledger entry and its entry in hosts/agents.json',
        'forget its provisioning progress (the disk stays; declared again, it provisions again)',
      ],
    });
    expect(removalWork(ctx, removal, true).followUps[1]?.reasons).toHaveLength(1);
    const b = removalWork(ctx, removalOf(ctx, 'ap-b', 'agents/ap-b.yaml'), true).followUps;
    expect(b.map((f) => f.kind)).toEqual(['forget-agent']);
  });
});
