// `build: host` on the host side, with the real nix (Debian nix-bin): one `nix build` for several
// agents, a broken agent stopping only itself, the staged flake, the check `fleet doctor` runs. The
// copy into guests and the activation run for real in test/e2e/host-build.e2e.test.ts.
import { execFileSync } from 'node:child_process';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProgressEvent } from '@agentfleet/core';
import { HOST_BUILD_NIX_CONFIG, hostBuildFlake } from '@agentfleet/testing/host-build-flake';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildToplevels, HostBuilder } from './host-build.js';
import { hostBuildCheck, hostBuildFor } from './host-build-check.js';
import { InFlightAgents } from './in-flight.js';
import { type NixRunner, runNix } from './nix-command.js';

let root: string;
let stateDir: string;
const savedNixConfig = process.env.NIX_CONFIG;

beforeAll(async () => {
  process.env.NIX_CONFIG = HOST_BUILD_NIX_CONFIG;
  root = await mkdtemp(join(tmpdir(), 'bh-hostbuild-'));
  stateDir = join(root, 'state');
  await mkdir(stateDir);
  await writeFile(join(root, 'flake.nix'), hostBuildFlake(['bha', 'bhb', 'bhbad'], { fail: ['bhbad'] }));
  // The state dir is inside the repository (the default layout puts it elsewhere): it must never be built.
  await writeFile(join(stateDir, 'secret-disk-image'), 'not for the store');
  execFileSync('git', ['init', '-q', root]);
});

afterAll(async () => {
  if (savedNixConfig === undefined) delete process.env.NIX_CONFIG;
  else process.env.NIX_CONFIG = savedNixConfig;
  await rm(root, { recursive: true, force: true });
});

/** The real nix, with every invocation recorded as [program, ...args]. */
function counted(): { nix: NixRunner; calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    nix: (args, onLine, env, program = 'nix') => {
      calls.push([program, ...args]);
      return runNix(args, onLine, env, program);
    },
  };
}
/** Flake evaluations (`nix eval`; `nix build` of a flake would evaluate it again, and is never run). */
const evals = (calls: string[][]) =>
  calls.filter((c) => c[0] === 'nix' && (c.includes('eval') || c.includes('build')));
/** Builds of derivations already evaluated. */
const builds = (calls: string[][]) => calls.filter((c) => c[0] === 'nix-store' && c.includes('--realise'));
const logOf = () => {
  let text = '';
  return {
    write: (c: string) => {
      text += c;
    },
    text: () => text,
  };
};

describe('buildToplevels (real nix)', () => {
  it('builds every agent from one evaluation and one build, from the flake as git would commit it', async () => {
    const { nix, calls } = counted();
    const logs = new Map([
      ['bha', logOf()],
      ['bhb', logOf()],
    ]);
    const built = await buildToplevels({ flake: '.', fleetDir: root, stateDir, nix }, ['bha', 'bhb'], logs);
    expect(evals(calls)).toHaveLength(1);
    expect(builds(calls)).toHaveLength(1);
    expect(builds(calls)[0]?.filter((x) => x.endsWith('.drv'))).toHaveLength(2);
    for (const a of ['bha', 'bhb']) {
      const r = built.get(a);
      expect(r?.ok, JSON.stringify(r)).toBe(true);
      if (!r?.ok) continue;
      expect(r.path).toMatch(new RegExp(`^/nix/store/[a-z0-9]{32}-toplevel-${a}$`));
      await access(join(r.path, 'bin/switch-to-configuration'));
      expect(logs.get(a)?.text()).toContain('nix --extra-experimental-features');
    }
    // The build saw the staged copy, not the repository, and no state dir in it.
    const source = evals(calls)[0]?.find((a) => a.startsWith('path:')) ?? '';
    expect(source).toMatch(/^path:.*agentfleet-flake-/);
    await expect(access(source.slice('path:'.length).replace(/#.*$/, ''))).rejects.toThrow();
  });

  it('a broken agent fails alone, with its build output in its log; the others are built', async () => {
    const { nix, calls } = counted();
    const logs = new Map([
      ['bha', logOf()],
      ['bhbad', logOf()],
    ]);
    const built = await buildToplevels({ flake: '.', fleetDir: root, stateDir, nix }, ['bha', 'bhbad'], logs);
    expect(built.get('bha')?.ok).toBe(true);
    expect(built.get('bhbad')).toEqual({ ok: false, message: 'the build on the host exited with 100' }); // nix-store: 100 = a build failed
    expect(logs.get('bhbad')?.text()).toContain('bhbad does not build');
    // Joint evaluation and build, then one per agent to tell which failed.
    expect(builds(calls)).toHaveLength(3);
    expect(evals(calls)).toHaveLength(3);
  });

  it('honours the pinned flake.lock with --no-update-lock-file', async () => {
    await writeFile(join(root, 'flake.lock'), '{"nodes":{"root":{}},"root":"root","version":7}\n');
    try {
      const { nix, calls } = counted();
      const built = await buildToplevels({ flake: '.', fleetDir: root, stateDir, nix }, ['bha'], new Map());
      expect(built.get('bha')?.ok).toBe(true);
      expect(evals(calls)[0]).toContain('--no-update-lock-file');
    } finally {
      await rm(join(root, 'flake.lock'));
    }
  });
});

describe('HostBuilder', () => {
  it('agents asking at about the same time share one nix build', async () => {
    const { nix, calls } = counted();
    const builder = new HostBuilder({ flake: '.', fleetDir: root, stateDir, nix }, { gatherMs: 200 });
    const [a, b] = await Promise.all([builder.toplevel('bha', logOf()), builder.toplevel('bhb', logOf())]);
    expect(a.ok && b.ok).toBe(true);
    expect(builds(calls)).toHaveLength(1);
    // A later request is a new round: it sees the files as they are then.
    expect((await builder.toplevel('bha', logOf())).ok).toBe(true);
    expect(builds(calls)).toHaveLength(2);
  });
});

describe('HostBuilder in a fleet up (InFlightAgents)', () => {
  const plan = (agents: string[]) =>
    ({
      type: 'plan',
      plan: { goal: 'up', actions: agents.map((agent) => ({ agent, steps: ['start', 'provision'] })) },
    }) as unknown as ProgressEvent;
  const start = (agent: string) => ({ type: 'step', agent, step: 'start', status: 'start' }) as const;
  const settle = () => new Promise((r) => setTimeout(r, 400));

  it('a round waits until every agent in flight has asked, then builds them in one nix build', async () => {
    const { nix, calls } = counted();
    const inFlight = new InFlightAgents();
    const builder = new HostBuilder({ flake: '.', fleetDir: root, stateDir, nix }, { inFlight });
    inFlight.observe(plan(['bha', 'bhb', 'bhq']));
    inFlight.observe(start('bha'));
    inFlight.observe(start('bhb'));
    const a = builder.toplevel('bha', logOf());
    await settle();
    expect(builds(calls)).toHaveLength(0); // bhb is still booting
    const b = builder.toplevel('bhb', logOf());
    expect((await a).ok && (await b).ok).toBe(true);
    expect(builds(calls)).toHaveLength(1);
    expect(evals(calls)).toHaveLength(1);
    expect(builds(calls)[0]?.filter((x) => x.endsWith('.drv'))).toHaveLength(2);
  });

  it('an agent that fails before asking no longer holds the others', async () => {
    const { nix, calls } = counted();
    const inFlight = new InFlightAgents();
    const builder = new HostBuilder({ flake: '.', fleetDir: root, stateDir, nix }, { inFlight });
    inFlight.observe(plan(['bha', 'bhb']));
    inFlight.observe(start('bha'));
    inFlight.observe(start('bhb'));
    const a = builder.toplevel('bha', logOf());
    await settle();
    expect(builds(calls)).toHaveLength(0);
    inFlight.observe({ type: 'agent', agent: 'bhb', status: 'failed', error: 'ssh timeout' });
    expect((await a).ok).toBe(true);
    expect(builds(calls)).toHaveLength(1);
  });
});

describe('hostBuildCheck', () => {
  it('passes on this host (nix-bin, flakes, a writable store)', async () => {
    const r = await hostBuildCheck();
    expect(r, JSON.stringify(r)).toMatchObject({ ok: true, remedy: '' });
    expect(r.detail).toMatch(/^nix \(Nix\) \d/);
  });

  it('says what is missing without nix, and fleet falls back to guest builds saying so', async () => {
    const noNix: NixRunner = () => Promise.reject(new Error('nix is not installed on this host'));
    const r = await hostBuildCheck(noNix);
    expect(r).toMatchObject({ ok: false, detail: 'nix is not installed on this host' });
    expect(r.remedy).toMatch(/nix-bin/);
    const notes: string[] = [];
    const deps = await hostBuildFor({
      build: 'host',
      source: { flake: '.', fleetDir: root, stateDir },
      sshConfig: async () => '',
      note: (m) => notes.push(m),
      check: () => hostBuildCheck(noNix),
    });
    expect(deps).toBeUndefined();
    expect(notes).toEqual([expect.stringMatching(/building inside each agent instead/)]);
  });

  it('reports a store that takes no new paths', async () => {
    const readOnly: NixRunner = (args, onLine, env) =>
      args.includes('add-file')
        ? runNix([...args, '--store', join(root, 'no/such/dir'), '--readonly-mode'], onLine, env)
        : runNix(args, onLine, env);
    const r = await hostBuildCheck(readOnly);
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/does not take new paths/);
  });
});
