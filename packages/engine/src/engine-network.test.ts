// passt's life follows the domain's: the engine against a fake GuestNetworks (the real passt runs
// in adapters/passt.integration.test.ts and test/e2e/isolation.e2e.test.ts).

import { agentYaml, fleetRun, fleetYaml, TEST_FLEET_ID, testWorld } from '@agentfleet/testing/engine-deps';
import { describe, expect, it } from 'vitest';
import { runFleet } from './engine.js';

const agents = { drago: agentYaml('drago'), luce: `${agentYaml('luce')}network: open\n` };
const up = { goal: 'up' as const, dryRun: false, concurrency: 2, pollMs: 1 };
const socketOf = (agent: string) => `/state/run/agent-${agent}/passt.sock`;

describe('runFleet and the per-agent passt', () => {
  it('up starts passt for an isolated agent before its domain, in its private directory, and none for open', async () => {
    const w = testWorld();
    const run = fleetRun(agents);
    const runningAtStart = new Map<string, boolean>();
    const start = w.hv.start.bind(w.hv);
    w.hv.start = async (name) => {
      runningAtStart.set(
        name,
        w.networks.running.size > 0 && (await w.networks.isRunning(socketOf('drago'))),
      );
      return start(name);
    };
    const r = await runFleet(run, w.deps, up);
    expect(r.outcomes.every((o) => o.ok)).toBe(true);
    expect([...w.networks.running.values()]).toEqual([
      {
        agent: 'drago',
        uri: 'qemu:///session',
        socketPath: socketOf('drago'),
        sshPort: run.ledger.hosts['qemu:///session']?.drago?.sshPort,
      },
    ]);
    expect(runningAtStart.get('agent-drago')).toBe(true);
    expect([...w.networks.dirs].sort()).toEqual(['/state/run/agent-drago', '/state/run/agent-luce']);
    const xml = (await w.hv.domainXml('agent-drago')) ?? '';
    expect(xml).toContain(`addr.path=${socketOf('drago')}`);
    expect(await w.hv.domainXml('agent-luce')).toContain('user,id=net0,hostfwd=');
    // A second run finds it running and starts nothing.
    await runFleet(run, w.deps, up);
    expect(w.networks.started).toBe(1);
  });

  it('down and destroy stop it', async () => {
    const w = testWorld();
    const run = fleetRun(agents);
    await runFleet(run, w.deps, up);
    await runFleet(run, w.deps, { ...up, goal: 'down' });
    expect(w.networks.running.size).toBe(0);
    await runFleet(run, w.deps, up);
    expect(w.networks.running.size).toBe(1);
    await runFleet(run, w.deps, { ...up, goal: 'destroy' });
    expect(w.networks.running.size).toBe(0);
  });

  it('a passt left behind by a domain that stopped on its own, or a killed run, is stopped by the next run', async () => {
    const w = testWorld();
    const run = fleetRun(agents);
    await runFleet(run, w.deps, up);
    await w.hv.destroy('agent-drago'); // the guest powered itself off
    await runFleet(run, w.deps, { ...up, goal: 'down' });
    expect(w.networks.running.size).toBe(0);
    // A run killed after starting passt, before the domain started: the next up reuses or replaces it.
    await w.networks.ensure({
      agent: 'drago',
      uri: 'qemu:///system',
      socketPath: socketOf('drago'),
      sshPort: 1,
    });
    await runFleet(run, w.deps, up);
    expect([...w.networks.running.values()].map((s) => s.sshPort)).not.toEqual([1]);
    expect((await w.hv.listDomains()).find((d) => d.name === 'agent-drago')?.state).toBe('running');
  });

  it('a running isolated domain whose passt died is reported with the way to repair it, not touched', async () => {
    const w = testWorld();
    const run = fleetRun(agents);
    await runFleet(run, w.deps, up);
    await w.networks.stop(socketOf('drago'));
    const r = await runFleet(run, w.deps, up);
    const drago = r.outcomes.find((o) => o.agent === 'drago');
    expect(drago?.ok).toBe(false);
    expect(drago?.error).toMatch(/passt of agent drago is gone.*fleet down drago && fleet up drago/);
    expect((await w.hv.listDomains()).find((d) => d.name === 'agent-drago')?.state).toBe('running');
  });

  it('a domain that fails to start leaves no passt behind', async () => {
    const w = testWorld();
    w.hv.start = async () => {
      throw new Error('QEMU refused');
    };
    const r = await runFleet(fleetRun(agents), w.deps, up);
    expect(r.outcomes.every((o) => !o.ok)).toBe(true);
    expect(w.networks.running.size).toBe(0);
  });

  it('an agent on a remote host: its passt runs there (socket in the fleet run dir there), its pre-generated key is put there before start and goes with the hand-over; purge takes what is left', async () => {
    const w = testWorld();
    const uri = 'qemu+ssh://root@hostb.example/system';
    const run = fleetRun({ drago: agentYaml('drago') }, fleetYaml(`libvirtUri: '${uri}'`));
    const socket = `/run/agentfleet/${TEST_FLEET_ID}/run/agent-drago/passt.sock`;
    await w.hostKeys.write('drago', { privateKey: 'SECRET-KEY', publicKey: 'ssh-ed25519 AAAApre' });
    // The guest took the key from fw_cfg: it presents the one made for it.
    w.readiness.keyOf = () => 'ssh-ed25519 AAAApre';
    const placedAtStart: boolean[] = [];
    const start = w.hv.start.bind(w.hv);
    w.hv.start = async (name) => {
      placedAtStart.push(w.hostKeys.placed.has(`drago@${uri}`) && w.networks.running.has(socket));
      return start(name);
    };
    const r = await runFleet(run, w.deps, up);
    expect(r.outcomes.filter((o) => !o.ok)).toEqual([]);
    expect(placedAtStart).toEqual([true]);
    expect(w.networks.running.get(socket)).toMatchObject({ agent: 'drago', uri });
    const xml = (await w.hv.domainXml('agent-drago')) ?? '';
    expect(xml).toContain(`addr.path=${socket}`);
    expect(xml).toContain(`file="${w.hostKeys.fwcfgPath('drago', uri)}"`);
    expect(xml).not.toContain('SECRET-KEY');
    // The guest presented the key: the hand-over removed the host's copy (and this machine's).
    expect(w.hostKeys.placed.size).toBe(0);
    expect(await w.hostKeys.read('drago')).toBeUndefined();
    // A copy left there (a run killed mid-hand-over) goes with the disk.
    await w.hostKeys.placeOn('drago', uri);
    await runFleet(run, w.deps, { ...up, goal: 'purge' });
    expect(w.networks.running.size).toBe(0);
    expect(w.hostKeys.placed.size).toBe(0);
  });
});
