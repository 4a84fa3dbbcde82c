import { describe, expect, it } from 'vitest';
import { computePlan } from './compute.js';
import { domainProjection } from './projection.js';
import { planHasWork, planToJson, renderPlan } from './render.js';
import type { ActualAgent, DesiredAgent } from './types.js';

const base = { path: '/img/base.qcow2', size: 100, mtimeMs: 1, headSha256: 'aa' };

function desired(name: string, over: Partial<DesiredAgent> = {}): DesiredAgent {
  return {
    name,
    domain: `agent-${name}`,
    uri: 'qemu:///session',
    specHash: 'hash-1',
    xml: '<domain/>',
    resources: { memory: '512 MiB', vcpus: '1' },
    disk: { path: `/s/agent-${name}.qcow2`, mode: 'overlay', base: '/img/base.qcow2', baseIdentity: base },
    sshPort: 2223,
    spicePort: 5900,
    cores: [1],
    consoleLog: `/s/agent-${name}.console.log`,
    autostart: false,
    ...over,
  };
}

function upAndReady(name: string, over: Partial<ActualAgent> = {}): ActualAgent {
  return {
    name,
    domain: {
      uuid: 'u',
      state: 'running',
      specHash: 'hash-1',
      resources: { memory: '512 MiB', vcpus: '1' },
      autostart: false,
    },
    disk: { exists: true, backingFile: '/img/base.qcow2' },
    phase: 'ssh-ready',
    recordedBase: base,
    hostKey: 'ssh-ed25519 AAAA',
    ...over,
  };
}

function domainOf(a: ActualAgent): NonNullable<ActualAgent['domain']> {
  if (!a.domain) throw new Error('test agent has no domain');
  return a.domain;
}

const up = (d: DesiredAgent, a?: ActualAgent) =>
  computePlan({ goal: 'up', desired: [d], actual: a ? [a] : [] }).actions[0];

describe('computePlan up', () => {
  it('creates everything for a new agent', () => {
    const a = up(desired('drago'));
    expect(a?.kind).toBe('create');
    expect(a?.steps).toEqual(['create-disk', 'define', 'start', 'await-ssh']);
  });

  it('sets autostart on a new agent that asks for it, after defining it', () => {
    const a = up(desired('drago', { autostart: true }));
    expect(a?.steps).toEqual(['create-disk', 'define', 'autostart', 'start', 'await-ssh']);
  });

  it('flips autostart of a running agent without restarting it', () => {
    const on = up(desired('drago', { autostart: true }), upAndReady('drago'));
    expect(on?.kind).toBe('update');
    expect(on?.steps).toEqual(['autostart']);
    expect(on?.changes).toEqual([{ field: 'autostart', before: 'off', after: 'on' }]);
    const ready = upAndReady('drago');
    const off = up(desired('drago'), { ...ready, domain: { ...domainOf(ready), autostart: true } });
    expect(off?.steps).toEqual(['autostart']);
    expect(off?.reasons).toEqual(['autostart: off']);
  });

  it('does nothing when the agent is up, unchanged and SSH-ready', () => {
    const a = up(desired('drago'), upAndReady('drago'));
    expect(a?.kind).toBe('noop');
    expect(a?.steps).toEqual([]);
  });

  it('starts a stopped agent and reuses its disk', () => {
    const a = up(
      desired('drago'),
      upAndReady('drago', { domain: { ...domainOf(upAndReady('drago')), state: 'shutoff' } }),
    );
    expect(a?.kind).toBe('start');
    expect(a?.steps).toEqual(['start', 'await-ssh']);
  });

  it('resumes a run killed after start: waits for SSH only', () => {
    const a = up(desired('drago'), upAndReady('drago', { phase: 'started', hostKey: undefined }));
    expect(a?.kind).toBe('resume');
    expect(a?.steps).toEqual(['await-ssh']);
  });

  it('resumes a run killed after define: the disk exists, the domain is defined but off', () => {
    const actual = upAndReady('drago', { phase: 'defined', hostKey: undefined });
    actual.domain = { ...domainOf(actual), state: 'shutoff' };
    expect(up(desired('drago'), actual)?.steps).toEqual(['start', 'await-ssh']);
  });

  it('redefines and restarts on a changed spec, listing the changed fields', () => {
    const d = desired('drago', { specHash: 'hash-2', resources: { memory: '1024 MiB', vcpus: '1' } });
    const a = up(d, upAndReady('drago'));
    expect(a?.kind).toBe('update');
    expect(a?.steps).toEqual(['define', 'restart', 'await-ssh']);
    expect(a?.changes).toEqual([{ field: 'memory', before: '512 MiB', after: '1024 MiB' }]);
    expect(a?.reasons[0]).toMatch(/spec changed \(hash hash-1 -> hash-2\)/);
  });

  it('detects a domain edited by hand (same spec hash, different fields)', () => {
    const actual = upAndReady('drago');
    actual.domain = { ...domainOf(actual), resources: { memory: '2048 MiB', vcpus: '1' } };
    const a = up(desired('drago'), actual);
    expect(a?.kind).toBe('update');
    expect(a?.reasons).toContain(
      'domain edited outside fleet (its XML differs from what the spec generates)',
    );
  });

  it('recreates a missing disk of a stopped domain', () => {
    const actual = upAndReady('drago', { disk: { exists: false } });
    actual.domain = { ...domainOf(actual), state: 'shutoff' };
    const a = up(desired('drago'), actual);
    expect(a?.steps).toEqual(['create-disk', 'start', 'await-ssh']);
    expect(a?.reasons[0]).toMatch(/missing/);
  });

  it('blocks an overlay whose backing file is not the fleet base', () => {
    const a = up(
      desired('drago'),
      upAndReady('drago', { disk: { exists: true, backingFile: '/img/other.qcow2' } }),
    );
    expect(a?.kind).toBe('blocked');
    expect(a?.reasons[0]).toMatch(/overlay on \/img\/other.qcow2.*refusing/);
  });

  it('blocks an overlay whose base image content changed since it was created', () => {
    const d = desired('drago', {
      disk: { ...desired('drago').disk, baseIdentity: { ...base, headSha256: 'bb' } },
    });
    const a = up(d, upAndReady('drago'));
    expect(a?.kind).toBe('blocked');
    expect(a?.reasons[0]).toMatch(/changed since the overlay/);
  });

  it('says, without acting on it, when a copied disk was made from another base than the configured one', () => {
    const copy = (baseIdentity: typeof base) =>
      desired('drago', { disk: { ...desired('drago').disk, mode: 'copy', baseIdentity } });
    const copied = upAndReady('drago', { disk: { exists: true } });
    const same = up(copy(base), copied);
    expect(same?.kind).toBe('noop');
    expect(same?.reasons).toEqual([]);
    const rebuilt = up(copy({ ...base, headSha256: 'bb', size: 200 }), copied);
    expect(rebuilt?.kind).toBe('noop');
    expect(rebuilt?.steps).toEqual([]);
    expect(rebuilt?.reasons).toEqual([
      expect.stringMatching(
        /^base image changed: .*made from \/img\/base\.qcow2 \(sha256 of head aa, 100 bytes\).*now \/img\/base\.qcow2 \(sha256 of head bb, 200 bytes\).*rebase/,
      ),
    ]);
    expect(
      renderPlan(
        computePlan({ goal: 'up', desired: [copy({ ...base, path: '/img/new.qcow2' })], actual: [copied] }),
      ),
    ).toContain('# base image changed: disk /s/agent-drago.qcow2 was made from /img/base.qcow2');
  });

  it('adds the provisioning hand-over only when a provisioner is wired', () => {
    const plan = computePlan({ goal: 'up', desired: [desired('drago')], actual: [], provision: true });
    expect(plan.actions[0]?.steps.at(-1)).toBe('provision');
  });
});

describe('computePlan down/destroy', () => {
  it('stops running agents only', () => {
    const stopped = upAndReady('luce');
    stopped.domain = { ...domainOf(stopped), state: 'shutoff' };
    const plan = computePlan({
      goal: 'down',
      desired: [desired('drago'), desired('luce')],
      actual: [upAndReady('drago'), stopped],
    });
    expect(plan.actions.map((a) => [a.agent, a.kind, a.steps])).toEqual([
      ['drago', 'stop', ['stop']],
      ['luce', 'noop', []],
    ]);
  });

  it('keeps the disk unless purging', () => {
    const keep = computePlan({ goal: 'destroy', desired: [desired('drago')], actual: [upAndReady('drago')] });
    expect(keep.actions[0]?.steps).toEqual(['power-off', 'undefine']);
    const purge = computePlan({ goal: 'purge', desired: [desired('drago')], actual: [upAndReady('drago')] });
    expect(purge.actions[0]?.steps).toEqual(['power-off', 'undefine', 'delete-disk']);
  });
});

describe('domains this fleet does not own', () => {
  const other = { owner: 'another fleet (id f-a, fleet dir /repos/a, state dir /var/a)', importable: false };
  it('blocks up, naming the owner and the way out', () => {
    const a = up(desired('alpha'), { name: 'alpha', disk: { exists: false }, foreign: other });
    expect(a?.kind).toBe('blocked');
    expect(a?.reasons[0]).toBe(
      'domain agent-alpha on qemu:///session belongs to another fleet (id f-a, fleet dir /repos/a, state dir /var/a): ' +
        "not touching it. To run both, set a domainPrefix in fleet.yaml so this fleet's domains get other names",
    );
  });
  it('offers import for a domain no fleet owns', () => {
    const foreign = { owner: 'no agentfleet fleet', importable: true };
    const a = up(desired('alpha'), { name: 'alpha', disk: { exists: false }, foreign });
    expect(a?.reasons[0]).toMatch(/adopt the domain with `fleet import alpha`/);
  });
  it('destroy and purge never touch it, nor the disk it uses', () => {
    const d = desired('alpha');
    const actual = { name: 'alpha', disk: { exists: true }, foreign: { ...other, disk: d.disk.path } };
    for (const goal of ['destroy', 'purge'] as const) {
      const a = computePlan({ goal, desired: [d], actual: [actual] }).actions[0];
      expect(a?.kind).toBe('noop');
      expect(a?.steps).toEqual([]);
    }
    // Our own disk (another path) still goes with purge.
    const ownDisk = {
      ...actual,
      foreign: other,
      files: [{ path: '/s/agent-alpha.console.log', what: 'console log' }],
    };
    const purge = computePlan({ goal: 'purge', desired: [d], actual: [ownDisk] }).actions[0];
    expect(purge?.steps).toEqual(['delete-disk', 'delete-files']);
    expect(purge?.reasons).toContain('delete console log /s/agent-alpha.console.log');
  });
});

describe('renderPlan', () => {
  it('prints one block per agent and a summary', () => {
    const plan = computePlan({
      goal: 'up',
      desired: [desired('drago'), desired('luce', { specHash: 'hash-2', resources: { memory: '1 MiB' } })],
      actual: [upAndReady('luce')],
    });
    const text = renderPlan(plan);
    expect(text).toContain('+ agent drago will be created');
    expect(text).toContain('~ agent luce will be updated');
    expect(text).toContain('~ memory: 512 MiB -> 1 MiB');
    expect(text).toContain(
      'Plan (up): 1 to create, 1 to update, 0 to start, 0 to stop, 0 to destroy, 0 unchanged.',
    );
  });

  it('shows orphans as not managed, with the command that removes them, and no work', () => {
    const plan = computePlan({
      goal: 'up',
      desired: [desired('luce')],
      actual: [upAndReady('luce')],
      orphans: [{ agent: 'old', domain: 'agent-old', uri: 'qemu:///session', state: 'shutoff' }],
    });
    const text = renderPlan(plan);
    expect(text).toContain('? agent old is orphaned (not managed; `fleet destroy old --purge` removes it)');
    expect(text).toContain('# domain agent-old on qemu:///session (shutoff) has agentfleet metadata');
    expect(text).toContain('1 unchanged, 1 orphaned.');
    expect(planHasWork(plan)).toBe(false);
    expect(planToJson(plan)).toMatchObject({ orphans: [{ agent: 'old' }] });
  });

  it("shows remove's follow-ups after the agents' blocks, in order, and --json carries them", () => {
    const plan = computePlan({ goal: 'destroy', desired: [desired('drago')], actual: [upAndReady('drago')] });
    expect(renderPlan(plan)).not.toContain('then');
    expect(planToJson(plan)).not.toHaveProperty('followUps');
    plan.followUps = [
      { kind: 'retire-host-keys', agents: ['drago'], reasons: ['delete secrets/hosts/drago.pub'] },
      {
        kind: 'forget-agent',
        agent: 'drago',
        file: 'agents/drago.yaml',
        reasons: ['delete agents/drago.yaml'],
      },
    ];
    const text = renderPlan(plan);
    expect(text).toContain(
      '- then host keys of drago will be retired\n    # delete secrets/hosts/drago.pub\n\n' +
        '- then agent drago will be forgotten\n    # delete agents/drago.yaml\n',
    );
    expect(text.indexOf('- agent drago will be destroyed')).toBeLessThan(text.indexOf('- then'));
    expect(text).toContain('1 to destroy, 0 unchanged, then 2 follow-ups.');
    expect(planToJson(plan)).toMatchObject({ followUps: plan.followUps });
  });
});

describe('domainProjection', () => {
  it('reads what libvirt normalises the same for both sides', () => {
    const xml = `<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
      <name>agent-x</name><memory unit='KiB'>1048576</memory><vcpu placement='static'>2</vcpu>
      <cputune><vcpupin vcpu='1' cpuset='3'/><vcpupin vcpu='0' cpuset='2'/><emulatorpin cpuset='2-3'/></cputune>
      <devices><disk type='file' device='disk'><source file='/s/agent-x.qcow2'/></disk>
        <serial type='pty'><log file='/s/agent-x.console.log'/></serial>
        <graphics type='spice' port='5901' autoport='no'><listen type='address' address='127.0.0.1'/></graphics></devices>
      <qemu:commandline><qemu:arg value='-netdev'/><qemu:arg value='user,id=net0,hostfwd=tcp:127.0.0.1:2224-:22'/>
        <qemu:arg value='-device'/><qemu:arg value='virtio-net-pci,netdev=net0,mac=52:54:00:AA:BB:CC'/></qemu:commandline>
    </domain>`;
    expect(domainProjection(xml)).toEqual({
      type: 'qemu',
      memory: '1024 MiB',
      vcpus: '2',
      vcpupin: '0:2 1:3',
      emulatorpin: '2-3',
      disk: '/s/agent-x.qcow2',
      console: '/s/agent-x.console.log',
      spice: '127.0.0.1:5901',
      ssh: '127.0.0.1:2224->22 (hostfwd)',
      mac: '52:54:00:aa:bb:cc',
      'qemu-args':
        '-netdev user,id=net0,hostfwd=tcp:127.0.0.1:2224-:22 -device virtio-net-pci,netdev=net0,mac=52:54:00:AA:BB:CC',
    });
  });
});
