import { agentYaml, fleetRun, testWorld } from '@agentfleet/testing/engine-deps';
import { describe, expect, it } from 'vitest';
import { agentFiles } from './agent-files.js';
import { runFleet } from './engine.js';

const agents = { drago: agentYaml('drago'), luce: agentYaml('luce') };
const up = { goal: 'up' as const, dryRun: false, concurrency: 4, pollMs: 1 };

describe('runFleet up', () => {
  it('creates disks, defines, starts and waits for SSH; records phase and host key', async () => {
    const w = testWorld();
    const r = await runFleet(fleetRun(agents), w.deps, up);
    expect(r.plan.actions.map((a) => a.kind)).toEqual(['create', 'create']);
    expect(r.outcomes.every((o) => o.ok)).toBe(true);
    expect((await w.hv.listDomains()).map((d) => [d.name, d.state]).sort()).toEqual([
      ['agent-drago', 'running'],
      ['agent-luce', 'running'],
    ]);
    expect([...w.disks.disks.keys()].sort()).toEqual(['/state/agent-drago.qcow2', '/state/agent-luce.qcow2']);
    expect(w.store.state.agents.drago).toMatchObject({
      phase: 'ssh-ready',
      hostKey: 'ssh-ed25519 AAAAkey-of-drago',
    });
    // First contact: nothing pinned yet.
    expect(w.readiness.calls.map((c) => c.pinnedHostKey)).toEqual([undefined, undefined]);
  });

  it('a host key made before first boot reaches the guest as a fw_cfg file, never in the XML', async () => {
    const w = testWorld();
    await w.hostKeys.write('drago', { privateKey: 'SECRET-KEY', publicKey: 'ssh-ed25519 AAAApre' });
    await runFleet(fleetRun(agents), w.deps, up);
    const drago = (await w.hv.domainXml('agent-drago')) ?? '';
    expect(drago).toContain(`file="${w.hostKeys.fwcfgPath('drago')}"`);
    expect(drago).not.toContain('SECRET-KEY');
    expect(await w.hv.domainXml('agent-luce')).not.toContain('hostkeys');
  });

  it('once the guest presents the key fleet made for it, the host copy and the fw_cfg entry go; later boots and ups keep the pin', async () => {
    const w = testWorld();
    const run = fleetRun(agents);
    // What the (fake) guest presents: it took the key.
    const made = 'ssh-ed25519 AAAAkey-of-drago';
    await w.hostKeys.write('drago', { privateKey: 'SECRET-KEY', publicKey: made });
    const r = await runFleet(run, w.deps, up);
    expect(r.outcomes.every((o) => o.ok)).toBe(true);
    // First contact was verified against the key made here.
    expect(w.readiness.calls.find((c) => c.agent === 'drago')?.pinnedHostKey).toBe(made);
    expect(await w.hostKeys.read('drago')).toBeUndefined();
    // The running QEMU was started with the entry; the definition the next boot uses has none.
    expect(await w.hv.domainXml('agent-drago')).toContain('hostkeys');
    expect(await w.hv.domainXml('agent-drago', { inactive: true })).not.toContain('hostkeys');
    expect(w.store.state.agents.drago).toMatchObject({ hostKey: made, hostKeyHandedOver: true });
    expect(w.store.state.agents.luce?.hostKeyHandedOver).toBeUndefined();
    // What the next up builds is what was redefined: nothing to do, no restart.
    expect((await runFleet(run, w.deps, up)).plan.actions.map((a) => a.kind)).toEqual(['noop', 'noop']);

    const drago = { ...run, names: ['drago'] };
    await runFleet(drago, w.deps, { ...up, goal: 'down' });
    const back = await runFleet(drago, w.deps, up);
    expect(back.outcomes.map((o) => o.ok)).toEqual([true]);
    expect(await w.hv.domainXml('agent-drago')).not.toContain('hostkeys');
    expect(w.readiness.calls.at(-1)?.pinnedHostKey).toBe(made);
    expect(w.store.state.agents.drago).toMatchObject({ hostKey: made, hostKeyHandedOver: true });
  });

  it('a hand-over an older fleet left pending on a running agent it reached with that key is finished by the next up', async () => {
    const w = testWorld();
    const drago = fleetRun(agents, undefined, ['drago']);
    await runFleet(drago, w.deps, up);
    // As an older fleet left it: the key it made (and the guest presents) still on the host, still in the definition.
    await w.hostKeys.write('drago', { privateKey: 'SECRET-KEY', publicKey: 'ssh-ed25519 AAAAkey-of-drago' });
    const planned = await runFleet(drago, w.deps, { ...up, dryRun: true });
    await w.hv.define(planned.plan.actions[0]?.after?.xml ?? '');
    const r = await runFleet(drago, w.deps, up);
    expect(r.plan.actions.map((a) => a.kind)).toEqual(['noop']);
    expect(await w.hostKeys.read('drago')).toBeUndefined();
    expect(await w.hv.domainXml('agent-drago', { inactive: true })).not.toContain('hostkeys');
    expect(w.store.state.agents.drago?.hostKeyHandedOver).toBe(true);
    // Without the key it would hand over, the definition is what the spec generates: nothing to do.
    expect((await runFleet(drago, w.deps, up)).plan.actions.map((a) => a.kind)).toEqual(['noop']);
  });

  it('a disk made again after the hand-over gets no stale key: its guest makes one, pinned at first contact', async () => {
    const w = testWorld();
    const drago = fleetRun(agents, undefined, ['drago']);
    await w.hostKeys.write('drago', { privateKey: 'SECRET-KEY', publicKey: 'ssh-ed25519 AAAAkey-of-drago' });
    await runFleet(drago, w.deps, up);
    await runFleet(drago, w.deps, { ...up, goal: 'down' });
    w.disks.disks.delete('/state/agent-drago.qcow2');
    w.readiness.keyOf = () => 'ssh-ed25519 AAAAthe-new-guests-own';
    const r = await runFleet(drago, w.deps, up);
    expect(r.outcomes.map((o) => o.ok)).toEqual([true]);
    expect(r.outcomes[0]?.steps).toContain('create-disk');
    expect(w.readiness.calls.at(-1)?.pinnedHostKey).toBeUndefined();
    expect(await w.hv.domainXml('agent-drago')).not.toContain('hostkeys');
    expect(w.store.state.agents.drago?.hostKey).toBe('ssh-ed25519 AAAAthe-new-guests-own');
    expect(w.store.state.agents.drago?.hostKeyHandedOver).toBeUndefined();
  });

  it('a new disk starts the logs afresh: no console or provisioning line of an earlier guest remains', async () => {
    const w = testWorld();
    const logs = agentFiles('/state', 'drago').filter((f) => f.log);
    expect(logs.map((f) => f.what)).toEqual([
      'console log',
      'provisioning log',
      'provisioning log (rotated)',
    ]);
    for (const f of logs) w.files.paths.add(f.path);
    w.files.paths.add('/state/agent-luce.console.log');
    const r = await runFleet(fleetRun({ drago: agentYaml('drago') }, undefined, ['drago']), w.deps, up);
    expect(r.outcomes.map((o) => o.ok)).toEqual([true]);
    expect([...w.files.paths]).toEqual(['/state/agent-luce.console.log']);
  });

  it('a failed state.json write fails that agent only, named; the others finish', async () => {
    const w = testWorld();
    // The write that records drago's domain as defined fails, as a full disk would make it.
    const save = w.store.save.bind(w.store);
    let failed = false;
    w.store.save = async (state) => {
      if (!failed && state.agents.drago?.phase === 'defined') {
        failed = true;
        throw new Error('cannot write /state/state.json: ENOSPC: no space left on device, write');
      }
      return save(state);
    };
    const r = await runFleet(fleetRun(agents), { ...w.deps, state: w.store }, { ...up, concurrency: 2 });
    const drago = r.outcomes.find((o) => o.agent === 'drago');
    expect(drago).toMatchObject({ ok: false, steps: ['create-disk'] });
    expect(drago?.error).toMatch(/agent drago's progress failed: cannot write \/state\/state.json: ENOSPC/);
    expect(r.outcomes.find((o) => o.agent === 'luce')).toMatchObject({ ok: true });
    expect(w.store.state.agents.luce?.phase).toBe('ssh-ready');
    // The failure itself was recorded by a later write.
    expect(w.store.state.agents.drago?.lastError).toMatch(/ENOSPC/);
  });

  it('does nothing on a second run', async () => {
    const w = testWorld();
    const run = fleetRun(agents);
    await runFleet(run, w.deps, up);
    const uuids = await w.hv.listDomains();
    const second = await runFleet(run, w.deps, up);
    expect(second.plan.actions.map((a) => a.kind)).toEqual(['noop', 'noop']);
    expect(second.outcomes).toEqual([]);
    expect(await w.hv.listDomains()).toEqual(uuids);
    expect(w.disks.created).toBe(2);
  });

  it('plan (dry run) applies nothing', async () => {
    const w = testWorld();
    const r = await runFleet(fleetRun(agents), w.deps, { ...up, dryRun: true });
    expect(r.plan.actions.map((a) => a.steps)).toEqual([
      ['create-disk', 'define', 'start', 'await-ssh'],
      ['create-disk', 'define', 'start', 'await-ssh'],
    ]);
    expect(await w.hv.listDomains()).toEqual([]);
    expect(w.disks.disks.size).toBe(0);
    expect(w.store.state.agents).toEqual({});
  });

  it('adding an agent leaves the others untouched', async () => {
    const w = testWorld();
    await runFleet(fleetRun(agents), w.deps, up);
    const before = await w.hv.listDomains();
    const r = await runFleet(fleetRun({ ...agents, mira: agentYaml('mira') }), w.deps, up);
    expect(r.plan.actions.map((a) => [a.agent, a.kind])).toEqual([
      ['drago', 'noop'],
      ['luce', 'noop'],
      ['mira', 'create'],
    ]);
    const after = await w.hv.listDomains();
    for (const d of before) expect(after).toContainEqual(d);
  });

  it('redefines and restarts on a spec change, keeping the domain UUID and the disk', async () => {
    const w = testWorld();
    await runFleet(fleetRun(agents), w.deps, up);
    const uuid = (await w.hv.listDomains()).find((d) => d.name === 'agent-drago')?.uuid;
    const r = await runFleet(fleetRun({ ...agents, drago: agentYaml('drago', '1GiB') }), w.deps, up);
    const drago = r.plan.actions.find((a) => a.agent === 'drago');
    expect(drago?.kind).toBe('update');
    expect(drago?.steps).toEqual(['define', 'restart', 'await-ssh']);
    expect(drago?.changes).toContainEqual({ field: 'memory', before: '512 MiB', after: '1024 MiB' });
    expect((await w.hv.listDomains()).find((d) => d.name === 'agent-drago')).toMatchObject({
      uuid,
      state: 'running',
    });
    expect(await w.hv.domainXml('agent-drago')).toContain('<memory unit="MiB">1024</memory>');
    expect(w.disks.created).toBe(2);
    // The second contact is pinned to the key recorded the first time.
    expect(w.readiness.calls.at(-1)?.pinnedHostKey).toBe('ssh-ed25519 AAAAkey-of-drago');
  });

  it('notices a domain edited by hand and puts it back', async () => {
    const w = testWorld();
    await runFleet(fleetRun(agents), w.deps, up);
    const xml = (await w.hv.domainXml('agent-luce', { inactive: true })) ?? '';
    await w.hv.define(xml.replace(/<vcpu([^>]*)>1</, '<vcpu$1>3<'));
    const r = await runFleet(fleetRun(agents), w.deps, { ...up, dryRun: true });
    const luce = r.plan.actions.find((a) => a.agent === 'luce');
    expect(luce?.kind).toBe('update');
    expect(luce?.reasons).toContain(
      'domain edited outside fleet (its XML differs from what the spec generates)',
    );
    expect(luce?.changes).toContainEqual({ field: 'vcpus', before: '3', after: '1' });
  });

  it('resumes a run that stopped after define: no new disk, no second definition', async () => {
    const w = testWorld();
    const run = fleetRun(agents);
    // Simulate a kill right after the define step of both agents.
    await runFleet(run, w.deps, up);
    for (const name of ['agent-drago', 'agent-luce']) await w.hv.destroy(name);
    for (const a of Object.values(w.store.state.agents)) {
      a.phase = 'defined';
      delete a.hostKey;
    }
    const r = await runFleet(run, w.deps, up);
    expect(r.plan.actions.map((a) => a.steps)).toEqual([
      ['start', 'await-ssh'],
      ['start', 'await-ssh'],
    ]);
    expect(r.outcomes.every((o) => o.ok)).toBe(true);
    expect(w.disks.created).toBe(2);
  });

  it('fails an agent whose SSH port never appears, naming the port-forward cause; others go on', async () => {
    const w = testWorld();
    const run = fleetRun(agents);
    const luce = run.ledger.hosts[run.fleet.config.libvirtUri]?.luce;
    w.host.deafPorts.add(luce?.sshPort ?? 0);
    const r = await runFleet(run, w.deps, { ...up, portCheckSeconds: 0.05 });
    const failed = r.outcomes.find((o) => o.agent === 'luce');
    expect(failed?.ok).toBe(false);
    expect(failed?.error).toMatch(/nothing listens on 127\.0\.0\.1:\d+.*portForward/s);
    expect(failed?.error).toContain('TESTVM READY');
    expect(r.outcomes.find((o) => o.agent === 'drago')?.ok).toBe(true);
    expect(w.store.state.agents.luce?.lastError).toMatch(/nothing listens/);
  });

  it('shows the console tail when SSH never answers', async () => {
    const w = testWorld();
    w.readiness.failFor.add('drago');
    const r = await runFleet(fleetRun(agents), w.deps, up);
    expect(r.outcomes.find((o) => o.agent === 'drago')?.error).toMatch(
      /timed out[\s\S]*last lines of \/state\/agent-drago.console.log:[\s\S]*TESTVM READY/,
    );
  });

  it('a disk that had to be made again drops the old pin: the new guest is pinned at first contact', async () => {
    const w = testWorld();
    const run = fleetRun(agents);
    await runFleet(run, w.deps, up);
    await w.hv.destroy('agent-drago');
    w.disks.disks.delete('/state/agent-drago.qcow2');
    w.readiness.keyOf = (agent) => `ssh-ed25519 AAAAnew-disk-${agent}`;
    const r = await runFleet(run, w.deps, up);
    expect(r.outcomes.find((o) => o.agent === 'drago')?.ok).toBe(true);
    expect(w.readiness.calls.at(-1)?.pinnedHostKey).toBeUndefined();
    expect(w.store.state.agents.drago?.hostKey).toBe('ssh-ed25519 AAAAnew-disk-drago');
  });

  it('without state.json, the key committed in the fleet repository pins an existing disk', async () => {
    const w = testWorld();
    const run = fleetRun(agents);
    await runFleet(run, w.deps, up);
    await w.hv.destroy('agent-drago');
    w.store.state.agents = {};
    w.readiness.keyOf = (agent) => `ssh-ed25519 AAAAother-${agent}`;
    const deps = { ...w.deps, committedHostKey: async (a: string) => `ssh-ed25519 AAAAkey-of-${a}` };
    const r = await runFleet(run, deps, up);
    expect(r.outcomes.find((o) => o.agent === 'drago')?.error).toMatch(/does not match its pinned key/);
    expect(w.readiness.calls.at(-1)?.pinnedHostKey).toBe('ssh-ed25519 AAAAkey-of-drago');
  });

  it('down and destroy never read the base image (it may be gone)', async () => {
    const w = testWorld();
    const run = fleetRun(agents);
    await runFleet(run, w.deps, up);
    const deps = {
      ...w.deps,
      disks: Object.assign(Object.create(w.disks), {
        baseIdentity: async () => {
          throw new Error('base image /img/base.qcow2: no such file');
        },
      }),
    };
    const down = await runFleet(run, deps, { ...up, goal: 'down' });
    expect(down.outcomes.every((o) => o.ok)).toBe(true);
    const destroy = await runFleet(run, deps, { ...up, goal: 'destroy' });
    expect(destroy.outcomes.every((o) => o.ok)).toBe(true);
    expect(await w.hv.listDomains()).toEqual([]);
  });

  it('refuses an agent whose host key changed', async () => {
    const w = testWorld();
    const run = fleetRun(agents);
    await runFleet(run, w.deps, up);
    await w.hv.destroy('agent-drago');
    w.readiness.keyOf = (agent) => `ssh-ed25519 AAAAother-${agent}`;
    const r = await runFleet(run, w.deps, up);
    expect(r.outcomes.find((o) => o.agent === 'drago')?.error).toMatch(/does not match its pinned key/);
    // The key was pinned at first contact, not made by fleet: no word about fw_cfg.
    expect(r.outcomes.find((o) => o.agent === 'drago')?.error).not.toMatch(/fw_cfg/);
    expect(w.store.state.agents.drago?.hostKey).toBe('ssh-ed25519 AAAAkey-of-drago');
  });

  it('when the guest did not take the key made for it before first boot, says why and how to start over', async () => {
    const made = 'ssh-ed25519 AAAAmade-on-the-host';
    const w = testWorld();
    await w.hostKeys.write('drago', { privateKey: 'unused here', publicKey: made });
    // What `up` records before first boot; the (fake) guest then presents a key of its own.
    w.store.state.agents.drago = { phase: 'declared', hostKey: made, updatedAt: new Date().toISOString() };
    const r = await runFleet(fleetRun(agents), w.deps, up);
    const error = r.outcomes.find((o) => o.agent === 'drago')?.error;
    expect(error).toMatch(/does not match its pinned key/);
    expect(error).toContain('did not take the host key fleet made for it and handed over via fw_cfg');
    expect(error).toContain("'fleet up --no-pregenerate-host-keys drago'");
    expect(w.store.state.agents.drago?.hostKey).toBe(made); // the pin stays
    // Not handed over: the key stays on the host, and so does the entry.
    expect((await w.hostKeys.read('drago'))?.publicKey).toBe(made);
    expect(await w.hv.domainXml('agent-drago', { inactive: true })).toContain('hostkeys');
    expect(w.store.state.agents.drago?.hostKeyHandedOver).toBeUndefined();
    expect(r.outcomes.find((o) => o.agent === 'luce')?.ok).toBe(true);
  });

  it('keeps at most `concurrency` agents in flight', async () => {
    const w = testWorld();
    const many = Object.fromEntries(['a1', 'a2', 'a3', 'a4'].map((n) => [n, agentYaml(n)]));
    await runFleet(fleetRun(many), w.deps, { ...up, concurrency: 2 });
    expect(w.readiness.maxInFlight).toBe(2);
  });
});

describe('runFleet down / destroy', () => {
  it('down shuts running agents off and keeps disks; destroy --purge removes domain, disk and state', async () => {
    const w = testWorld();
    const run = fleetRun(agents);
    await runFleet(run, w.deps, up);
    const down = await runFleet(run, w.deps, { ...up, goal: 'down' });
    expect(down.plan.actions.map((a) => a.kind)).toEqual(['stop', 'stop']);
    expect((await w.hv.listDomains()).map((d) => d.state)).toEqual(['shutoff', 'shutoff']);
    expect(w.disks.disks.size).toBe(2);

    const keep = await runFleet({ ...run, names: ['luce'] }, w.deps, { ...up, goal: 'destroy' });
    expect(keep.plan.actions[0]?.steps).toEqual(['undefine']);
    expect(w.disks.disks.has('/state/agent-luce.qcow2')).toBe(true);

    await runFleet({ ...run, names: ['drago'] }, w.deps, { ...up, goal: 'purge' });
    expect((await w.hv.listDomains()).map((d) => d.name)).toEqual([]);
    expect(w.disks.disks.has('/state/agent-drago.qcow2')).toBe(false);
    expect(w.store.state.agents.drago).toBeUndefined();
  });

  it('destroy asks with the plan it will apply; declined, nothing is touched', async () => {
    const w = testWorld();
    const run = fleetRun(agents);
    await runFleet(run, w.deps, up);
    const asked: string[][] = [];
    const declined = await runFleet({ ...run, names: ['drago'] }, w.deps, {
      ...up,
      goal: 'purge',
      confirm: async (plan) => {
        asked.push(plan.actions.flatMap((a) => a.steps));
        return false;
      },
    });
    expect(asked).toEqual([['power-off', 'undefine', 'delete-disk']]);
    expect(declined.confirmed).toBe(false);
    expect(declined.outcomes).toEqual([]);
    expect((await w.hv.listDomains()).find((d) => d.name === 'agent-drago')?.state).toBe('running');
    expect(w.disks.disks.has('/state/agent-drago.qcow2')).toBe(true);
  });

  it('a domain of the same name defined by another fleet is neither started, redefined nor destroyed', async () => {
    const w = testWorld();
    const run = fleetRun(agents);
    await runFleet(run, w.deps, up);
    // The same agents declared by a second fleet (another id) on the same host.
    const other = { ...run, ledger: { ...run.ledger, fleetId: 'other-fleet-0002' }, stateDir: '/other' };
    const r = await runFleet(other, w.deps, up);
    expect(r.plan.actions.map((a) => a.kind)).toEqual(['blocked', 'blocked']);
    expect(r.plan.actions[0]?.reasons[0]).toMatch(
      /belongs to another fleet \(id test-fleet-0001, fleet dir \/fleet, state dir \/state\)/,
    );
    const purge = await runFleet({ ...other, names: ['drago'] }, w.deps, { ...up, goal: 'purge' });
    expect(purge.outcomes).toEqual([]);
    expect((await w.hv.listDomains()).map((d) => d.state)).toEqual(['running', 'running']);
    expect(w.disks.disks.has('/state/agent-drago.qcow2')).toBe(true);
  });

  it('destroy --purge of an agent whose disk is already gone still forgets its pinned key and progress', async () => {
    const w = testWorld();
    const run = fleetRun(agents);
    await runFleet(run, w.deps, up);
    await runFleet({ ...run, names: ['drago'] }, w.deps, { ...up, goal: 'destroy' });
    w.disks.disks.delete('/state/agent-drago.qcow2'); // deleted by hand
    await w.hostKeys.write('drago', { privateKey: 'PRIVATE', publicKey: 'ssh-ed25519 AAAApre' });
    await w.hostKeys.write('luce', { privateKey: 'PRIVATE', publicKey: 'ssh-ed25519 AAAAluce' });
    const r = await runFleet({ ...run, names: ['drago'] }, w.deps, { ...up, goal: 'purge' });
    expect(r.plan.actions.map((a) => a.kind)).toEqual(['noop']);
    expect(w.store.state.agents.drago).toBeUndefined();
    expect([...w.hostKeys.keys.keys()]).toEqual(['luce']);
    expect(w.store.state.agents.luce?.hostKey).toBe('ssh-ed25519 AAAAkey-of-luce');
  });

  it('destroy --purge removes the partial disk a run killed mid-copy left, though no disk was ever published', async () => {
    const w = testWorld();
    w.files.paths.add('/state/.agent-drago.qcow2.partial');
    const run = fleetRun({ drago: agentYaml('drago') }, undefined, ['drago']);
    const r = await runFleet(run, w.deps, { ...up, goal: 'purge' });
    expect(r.outcomes).toMatchObject([
      { agent: 'drago', ok: true, steps: ['delete-files'], deleted: ['/state/.agent-drago.qcow2.partial'] },
    ]);
    expect(w.files.paths.size).toBe(0);
  });

  it('down forces off a guest that ignores the ACPI request once the shutdown timeout passes', async () => {
    const w = testWorld();
    const run = fleetRun(agents);
    await runFleet(run, w.deps, up);
    w.hv.shutdown = async () => {}; // a guest without an ACPI handler: the request is lost
    const r = await runFleet({ ...run, names: ['drago'] }, w.deps, { ...up, goal: 'down' });
    expect(r.outcomes).toEqual([{ agent: 'drago', ok: true, steps: ['stop'] }]);
    expect((await w.hv.listDomains()).find((d) => d.name === 'agent-drago')?.state).toBe('shutoff');
    expect(w.events).toContainEqual({
      type: 'message',
      agent: 'drago',
      message: 'ACPI shutdown timed out: forcing off',
    });
  });

  it('a second up after down reuses the disks', async () => {
    const w = testWorld();
    const run = fleetRun(agents);
    await runFleet(run, w.deps, up);
    await runFleet(run, w.deps, { ...up, goal: 'down' });
    const r = await runFleet(run, w.deps, up);
    expect(r.plan.actions.map((a) => a.kind)).toEqual(['start', 'start']);
    expect(w.disks.created).toBe(2);
  });
});

describe('runFleet orphans', () => {
  it('lists undeclared agents whose domains carry our metadata, never touches them, and purges one when named', async () => {
    const w = testWorld();
    await runFleet(fleetRun({ ...agents, old: agentYaml('old') }), w.deps, up);
    // A domain that merely looks like ours is someone else's.
    await w.hv.define('<domain type="qemu"><name>agent-foreign</name><memory>1024</memory></domain>');
    const run = fleetRun(agents); // agents/old.yaml deleted by hand

    const plan = await runFleet(run, w.deps, up);
    expect(plan.plan.orphans).toEqual([
      {
        agent: 'old',
        domain: 'agent-old',
        uri: 'qemu:///session',
        state: 'running',
        disk: '/state/agent-old.qcow2',
        files: [],
      },
    ]);
    expect(plan.outcomes).toEqual([]);
    expect((await w.hv.listDomains()).map((d) => d.name)).toContain('agent-old');
    await runFleet(run, w.deps, { ...up, goal: 'down' });
    expect((await w.hv.listDomains()).find((d) => d.name === 'agent-old')?.state).toBe('running');

    // The dry run shows exactly what the real run then does.
    const dry = await runFleet({ ...run, names: ['old'] }, w.deps, { ...up, goal: 'purge', dryRun: true });
    expect(dry.plan.actions.map((a) => [a.agent, a.kind, a.steps])).toEqual([
      ['old', 'delete', ['power-off', 'undefine', 'delete-disk']],
    ]);
    const purge = await runFleet({ ...run, names: ['old'] }, w.deps, { ...up, goal: 'purge' });
    expect(purge.plan.actions).toEqual(dry.plan.actions);
    expect(purge.outcomes).toEqual([
      {
        agent: 'old',
        ok: true,
        steps: ['power-off', 'undefine', 'delete-disk'],
        deleted: ['/state/agent-old.qcow2'],
      },
    ]);
    expect((await w.hv.listDomains()).map((d) => d.name).sort()).toEqual([
      'agent-drago',
      'agent-foreign',
      'agent-luce',
    ]);
    expect(w.disks.disks.has('/state/agent-old.qcow2')).toBe(false);
    expect(w.store.state.agents.old).toBeUndefined();
    expect(w.store.state.agents.drago?.phase).toBe('defined');
  });
});
