import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AgentConnector,
  type AgentShell,
  type ConnectOptions,
  type OutputStream,
  type ProvisionProgress,
  type ProvisionStore,
  parsePublicKeyLine,
  type SecretsRekeyer,
} from '@agentfleet/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REMOTE_FLAKE_DIR } from './flake.js';
import { HostBuilder } from './host-build.js';
import type { NixRunner } from './nix-command.js';
import { type ProvisionDeps, provisionAgent } from './provision-agent.js';
import { rebuildAgents } from './rebuild-agents.js';

// In-memory stand-ins for the guest, the secrets and the state book. The same flow runs for
// real (tiny VM, real ssh, real age) in test/e2e/provision.e2e.test.ts.
const KEY_A = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIt6iiHS6FNfAqLSQPp7GfEyzudAlC/LkGwONhDPj/y5';
const KEY_B = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKjTd7MjFA0kjSWqSR1fEeXtObJ/XR7s+Dt2j07OIjyA';

class FakeGuest {
  rebuilds: string[] = [];
  uploads: string[] = [];
  agenix = new Set<string>();
  failRebuild = false;
  /** Per rebuild: whether it ran with --no-update-lock-file. */
  frozen: boolean[] = [];
  /** The flake.lock in the uploaded flake: uploaded, or written by a rebuild as nix does. */
  lock: string | undefined;
  /** What the key file says; normally the key the server presents. */
  keyFile: string;
  constructor(
    public serverKey: string,
    private readonly secrets: FakeSecrets,
    readonly agent: string,
  ) {
    this.keyFile = `${serverKey} root@agent`;
  }

  /** build: host activations: the system paths switched to. */
  switched: string[] = [];
  failSwitch = false;

  exec(command: string, out: (chunk: string, stream: OutputStream) => void): number {
    const activate =
      /^nix-env -p \/nix\/var\/nix\/profiles\/system --set (\S+) && \1\/bin\/switch-to-configuration switch$/.exec(
        command,
      );
    if (activate) {
      out('activating the configuration...\n', 'stderr');
      if (this.failSwitch) {
        out('error: a unit failed to start\n', 'stderr');
        return 1;
      }
      this.switched.push(activate[1] as string);
      // The activation runs agenix, as nixos-rebuild's does.
      for (const s of this.secrets.encryptedTo(this.serverKey)) this.agenix.add(s);
      return 0;
    }
    const rebuild = /nixos-rebuild switch --flake (\S+)/.exec(command);
    if (rebuild) {
      this.rebuilds.push(rebuild[1] as string);
      const frozen = command.includes(' --no-update-lock-file');
      this.frozen.push(frozen);
      if (rebuild[1]?.startsWith(REMOTE_FLAKE_DIR) && this.lock === undefined) {
        if (frozen) return 1;
        this.lock = `inputs resolved by ${this.agent}\n`;
      }
      for (let i = 1; i <= 30; i++) out(`building step ${i}\n`, 'stderr');
      if (this.failRebuild) {
        out('error: attribute missing', 'stderr');
        return 1;
      }
      // agenix decrypts what was encrypted to this guest's key.
      for (const s of this.secrets.encryptedTo(this.serverKey)) this.agenix.add(s);
      return 0;
    }
    if (command === `cat ${REMOTE_FLAKE_DIR}/flake.lock`) {
      if (this.lock === undefined) return 1;
      out(this.lock, 'stdout');
      return 0;
    }
    if (command === 'cat /var/ssh/ssh_host_ed25519_key.pub') {
      out(`${this.keyFile}\n`, 'stdout');
      return 0;
    }
    const verify = /^for f in (.*?); do/.exec(command);
    if (verify) {
      for (const path of (verify[1] as string).split(' ')) {
        if (!this.agenix.has(path.replace('/run/agenix/', ''))) out(`${path}\n`, 'stdout');
      }
      return 0;
    }
    if (/^(mkdir|rm) /.test(command)) return 0;
    throw new Error(`fake guest: unexpected command ${command}`);
  }
}

class FakeSecrets implements SecretsRekeyer {
  hostKeys = new Map<string, string>();
  /** secret -> recipient host keys it is encrypted to */
  files = new Map<string, Set<string>>();
  rekeys = 0;
  constructor(private readonly rules: Record<string, string[]>) {
    for (const s of Object.values(rules).flat()) this.files.set(s, new Set());
  }
  async recordHostKey(agent: string, line: string) {
    this.hostKeys.set(agent, line);
  }
  async rekeyAgent(agent: string) {
    this.rekeys++;
    const key = this.hostKeys.get(agent);
    const mine = this.rules[agent] ?? [];
    for (const s of mine) this.files.set(s, new Set(key ? [key] : []));
    return { rekeyed: mine, unchanged: [], failed: [] };
  }
  encryptedTo(key: string): string[] {
    return [...this.files].filter(([, keys]) => keys.has(key)).map(([s]) => s);
  }
}

class FakeStore implements ProvisionStore {
  progress = new Map<string, ProvisionProgress>();
  pins = new Map<string, string>();
  writes = 0;
  async read(agent: string) {
    return this.progress.get(agent) ?? {};
  }
  async update(agent: string, change: (p: ProvisionProgress) => ProvisionProgress) {
    const next = change(await this.read(agent));
    this.progress.set(agent, structuredClone(next));
    this.writes++;
    return next;
  }
  async pinnedHostKey(agent: string) {
    return this.pins.get(agent);
  }
  async pinHostKey(agent: string, key: string) {
    this.pins.set(agent, key);
  }
  handedOver = new Set<string>();
  async hostKeyHandedOver(agent: string) {
    return this.handedOver.has(agent);
  }
}

class FakeConnector implements AgentConnector {
  constructor(readonly guests: Map<string, FakeGuest>) {}
  async connect(agent: string, opts: ConnectOptions = {}): Promise<AgentShell> {
    const guest = this.guests.get(agent);
    if (!guest) throw new Error(`no guest ${agent}`);
    if (
      opts.pinnedHostKey !== undefined &&
      opts.pinnedHostKey !== guest.serverKey &&
      !opts.acceptNewHostKey
    ) {
      throw new Error(`${agent}: host key changed`);
    }
    return {
      hostKey: parsePublicKeyLine(guest.serverKey),
      exec: async (cmd, onOutput) => guest.exec(cmd, onOutput ?? (() => {})),
      upload: async (files) => {
        guest.uploads.push(...files.map((f) => f.remote));
        // The upload replaces the flake directory, lock included.
        const lock = files.find((f) => f.remote.endsWith('/flake.lock'));
        guest.lock = lock && (await readFile(lock.local, 'utf8'));
      },
      close: async () => {},
    };
  }
}

let dir: string;
let secrets: FakeSecrets;
let store: FakeStore;
let guests: Map<string, FakeGuest>;
let lines: string[];

function deps(over: Partial<ProvisionDeps> = {}): ProvisionDeps {
  return {
    connector: new FakeConnector(guests),
    secrets,
    store,
    reporter: { step: () => {}, line: (agent, line) => lines.push(`${agent}: ${line}`) },
    stateDir: join(dir, 'state'),
    fleetDir: dir,
    flake: 'github:example/fleet',
    sshUserOf: () => 'root',
    ...over,
  };
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'provision-'));
  secrets = new FakeSecrets({ drago: ['mail-password'], luce: ['luce-token'] });
  store = new FakeStore();
  guests = new Map([
    ['drago', new FakeGuest(KEY_A, secrets, 'drago')],
    ['luce', new FakeGuest(KEY_B, secrets, 'luce')],
  ]);
  lines = [];
  store.pins.set('drago', KEY_A);
  store.pins.set('luce', KEY_B);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const guest = (name: string) => guests.get(name) as FakeGuest;

describe('provisionAgent', () => {
  it('runs phase 1, captures the key, rekeys, runs phase 2 and verifies the secrets', async () => {
    const r = await provisionAgent(deps(), { agent: 'drago', secrets: ['mail-password'] });
    expect(r).toEqual({ agent: 'drago', ok: true, ran: ['phase1', 'hostkey', 'rekeyed', 'phase2', 'ready'] });
    expect(guest('drago').rebuilds).toEqual([
      'github:example/fleet#agent-drago',
      'github:example/fleet#agent-drago',
    ]);
    expect(secrets.hostKeys.get('drago')).toBe(KEY_A);
    expect(store.progress.get('drago')).toMatchObject({ done: 'ready', hostKey: KEY_A });
    expect(lines).toContain('drago: building step 30');
    const log = await readFile(join(dir, 'state', 'logs', 'agent-drago.provision.log'), 'utf8');
    expect(log).toContain('nixos-rebuild switch --flake github:example/fleet#agent-drago');
    // A second run has nothing to do.
    expect(await provisionAgent(deps(), { agent: 'drago', secrets: ['mail-password'] })).toMatchObject({
      ran: [],
    });
    expect(guest('drago').rebuilds).toHaveLength(2);
  });

  it('with the host key fleet made and handed over, phase 2 is the only rebuild', async () => {
    store.handedOver.add('drago');
    const r = await provisionAgent(deps(), { agent: 'drago', secrets: ['mail-password'] });
    expect(r).toEqual({ agent: 'drago', ok: true, ran: ['phase1', 'hostkey', 'rekeyed', 'phase2', 'ready'] });
    expect(guest('drago').rebuilds).toEqual(['github:example/fleet#agent-drago']);
    const log = await readFile(join(dir, 'state', 'logs', 'agent-drago.provision.log'), 'utf8');
    expect(log).toContain('phase1 skipped: host key pre-generated');
  });

  it('without the rekey the guest cannot decrypt, so verification would fail', async () => {
    store.progress.set('drago', { done: 'rekeyed', hostKey: KEY_A });
    const r = await provisionAgent(deps(), { agent: 'drago', secrets: ['mail-password'] });
    expect(r).toMatchObject({
      ok: false,
      step: 'ready',
      message: 'agenix did not decrypt: /run/agenix/mail-password',
    });
  });

  it('resumes after the last recorded step without repeating finished ones', async () => {
    store.progress.set('drago', { done: 'hostkey', hostKey: KEY_A });
    secrets.hostKeys.set('drago', KEY_A);
    const r = await provisionAgent(deps(), { agent: 'drago', secrets: ['mail-password'] });
    expect(r).toMatchObject({ ok: true, ran: ['rekeyed', 'phase2', 'ready'] });
    expect(guest('drago').rebuilds).toHaveLength(1);
  });

  it('stops a failing rebuild with its last lines and log path, and resumes at that step', async () => {
    guest('drago').failRebuild = true;
    const r = await provisionAgent(deps(), { agent: 'drago', secrets: ['mail-password'] });
    if (r.ok) throw new Error('expected failure');
    expect(r.step).toBe('phase1');
    expect(r.tail).toHaveLength(20);
    expect(r.tail.at(-1)).toBe('error: attribute missing');
    expect(await readFile(r.logPath, 'utf8')).toContain('building step 1\n');
    expect(store.progress.get('drago')).toMatchObject({ failure: { step: 'phase1', logPath: r.logPath } });

    guest('drago').failRebuild = false;
    const again = await provisionAgent(deps(), { agent: 'drago', secrets: ['mail-password'] });
    expect(again).toMatchObject({ ok: true, ran: ['phase1', 'hostkey', 'rekeyed', 'phase2', 'ready'] });
    expect(store.progress.get('drago')?.failure).toBeUndefined();
  });

  it('refuses a key file that is not the key of the handshake', async () => {
    guest('drago').keyFile = KEY_B;
    const r = await provisionAgent(deps(), { agent: 'drago', secrets: [] });
    expect(r).toMatchObject({ ok: false, step: 'hostkey' });
    expect(secrets.hostKeys.has('drago')).toBe(false);
  });

  it('--from reruns a step and what follows', async () => {
    await provisionAgent(deps(), { agent: 'drago', secrets: ['mail-password'] });
    const r = await provisionAgent(deps(), { agent: 'drago', secrets: ['mail-password'], from: 'phase2' });
    expect(r).toMatchObject({ ok: true, ran: ['phase2', 'ready'] });
    expect(guest('drago').rebuilds).toHaveLength(3);
  });

  it('a changed host key is refused at connect; --rekey re-captures, re-pins and rekeys', async () => {
    await provisionAgent(deps(), { agent: 'drago', secrets: ['mail-password'] });
    // The VM was rebuilt from scratch behind fleet's back: new host key, nothing decrypted.
    guest('drago').serverKey = KEY_B;
    guest('drago').keyFile = KEY_B;
    guest('drago').agenix.clear();
    const refused = await provisionAgent(deps(), {
      agent: 'drago',
      secrets: ['mail-password'],
      from: 'phase2',
    });
    expect(refused).toMatchObject({ ok: false, message: 'drago: host key changed' });

    const r = await provisionAgent(deps(), { agent: 'drago', secrets: ['mail-password'], rekey: true });
    expect(r).toMatchObject({ ok: true, ran: ['hostkey', 'rekeyed', 'phase2', 'ready'] });
    expect(store.pins.get('drago')).toBe(KEY_B);
    expect(secrets.hostKeys.get('drago')).toBe(KEY_B);
    expect(guest('drago').agenix.has('mail-password')).toBe(true);
  });

  it('a first connection dropped before the handshake is made once more', async () => {
    const real = new FakeConnector(guests);
    const calls: ConnectOptions[] = [];
    const connector: AgentConnector = {
      connect: async (agent, opts = {}) => {
        calls.push(opts);
        // What a starved TCG guest gives the first connection on a loaded host.
        if (calls.length === 1) throw new Error(`ssh root@${agent}: Timed out while waiting for handshake`);
        return real.connect(agent, opts);
      },
    };
    const r = await provisionAgent(deps({ connector }), { agent: 'drago', secrets: ['mail-password'] });
    expect(r).toMatchObject({ ok: true, ran: ['phase1', 'hostkey', 'rekeyed', 'phase2', 'ready'] });
    expect(calls.map((c) => c.waitReady === true)).toEqual([false, false]);
    expect(await readFile(join(dir, 'state', 'logs', 'agent-drago.provision.log'), 'utf8')).toContain(
      'Timed out while waiting for handshake; connecting to drago once more',
    );
  });

  it('uploads the fleet repository when the flake is local, skipping ignored files and the state dir', async () => {
    execFileSync('git', ['-C', dir, 'init', '-q']);
    await writeFile(join(dir, '.gitignore'), 'node_modules/\n');
    await mkdir(join(dir, 'secrets'), { recursive: true });
    await mkdir(join(dir, 'node_modules', 'x'), { recursive: true });
    await writeFile(join(dir, 'flake.nix'), '{ }');
    await writeFile(join(dir, 'secrets', 'mail-password.age'), 'x');
    await writeFile(join(dir, 'node_modules', 'x', 'index.js'), 'x');
    // The state dir (disks, logs) sits inside the fleet dir here and must not be uploaded.
    await mkdir(join(dir, 'state'), { recursive: true });
    await writeFile(join(dir, 'state', 'agent-drago.qcow2'), 'disk');
    const r = await provisionAgent(deps({ flake: '.' }), { agent: 'drago', secrets: ['mail-password'] });
    expect(r.ok).toBe(true);
    expect(guest('drago').rebuilds[0]).toBe(`${REMOTE_FLAKE_DIR}#agent-drago`);
    const once = [
      `${REMOTE_FLAKE_DIR}.new/.gitignore`,
      `${REMOTE_FLAKE_DIR}.new/flake.nix`,
      `${REMOTE_FLAKE_DIR}.new/secrets/mail-password.age`,
    ];
    // Uploaded before each of the two rebuilds: phase 2 must see the rekeyed secrets, and the lock
    // phase 1 wrote, brought back into the repository.
    const locked = [...once.slice(0, 1), `${REMOTE_FLAKE_DIR}.new/flake.lock`, ...once.slice(1)];
    expect(guest('drago').uploads).toEqual([...once, ...locked]);
    expect(await readFile(join(dir, 'flake.lock'), 'utf8')).toBe('inputs resolved by drago\n');
    expect(guest('drago').frozen).toEqual([false, true]);
    expect(lines).toContainEqual(
      expect.stringMatching(/flake\.lock: the repository had none; wrote .*commit it/),
    );
  });

  it('rebuilds every agent against the committed flake.lock, never moving it', async () => {
    execFileSync('git', ['-C', dir, 'init', '-q']);
    await writeFile(join(dir, 'flake.nix'), '{ }');
    await writeFile(join(dir, 'flake.lock'), 'committed inputs\n');
    const [a, b] = await Promise.all([
      provisionAgent(deps({ flake: '.' }), { agent: 'drago', secrets: [] }),
      provisionAgent(deps({ flake: '.' }), { agent: 'luce', secrets: [] }),
    ]);
    expect([a.ok, b.ok]).toEqual([true, true]);
    expect(guest('drago').frozen).toEqual([true, true]);
    expect(guest('luce').frozen).toEqual([true, true]);
    expect(guest('luce').lock).toBe('committed inputs\n');
    expect(await readFile(join(dir, 'flake.lock'), 'utf8')).toBe('committed inputs\n');
  });

  it('without a flake.lock, the first rebuild of a run pins the inputs and every other agent waits for it', async () => {
    execFileSync('git', ['-C', dir, 'init', '-q']);
    await writeFile(join(dir, 'flake.nix'), '{ }');
    const [a, b] = await Promise.all([
      provisionAgent(deps({ flake: '.' }), { agent: 'drago', secrets: [] }),
      provisionAgent(deps({ flake: '.' }), { agent: 'luce', secrets: [] }),
    ]);
    expect([a.ok, b.ok]).toEqual([true, true]);
    // Exactly one rebuild resolved inputs; every other one ran frozen on the lock it wrote.
    const all = [...guest('drago').frozen, ...guest('luce').frozen];
    expect(all.filter((f) => !f)).toHaveLength(1);
    const repoLock = await readFile(join(dir, 'flake.lock'), 'utf8');
    expect(guest('drago').lock).toBe(repoLock);
    expect(guest('luce').lock).toBe(repoLock);
  });
});

describe('rebuildAgents', () => {
  it('rebuilds every agent; one failing does not stop the others', async () => {
    guest('luce').failRebuild = true;
    const out = await rebuildAgents(
      { ...deps(), line: (agent, line) => lines.push(`${agent}: ${line}`) },
      ['drago', 'luce'],
      2,
    );
    expect(out.map((o) => [o.agent, o.ok])).toEqual([
      ['drago', true],
      ['luce', false],
    ]);
    expect(out[1]).toMatchObject({ tail: expect.arrayContaining(['error: attribute missing']) });
    expect(guest('drago').rebuilds).toHaveLength(1);
    expect(lines).toContain('luce: error: attribute missing');
  });
});

describe('build: host (nix on the host faked; real in host-build.integration and the e2e)', () => {
  const nixCalls: { program: string; args: string[]; env?: Record<string, string> }[] = [];
  const fakeNix: NixRunner = async (args, onLine, env, program = 'nix') => {
    nixCalls.push({ program, args: [...args], ...(env && { env }) });
    const target = (agent: string) => ({
      drv: `/nix/store/${'d'.repeat(32)}-toplevel-${agent}.drv`,
      out: `/nix/store/${'x'.repeat(32)}-toplevel-${agent}`,
    });
    if (args.includes('eval')) {
      const apply = args[args.indexOf('--apply') + 1] ?? '';
      const agents = [...apply.matchAll(/"([a-z0-9-]+)" = /g)].map((m) => m[1] as string);
      return { code: 0, stdout: JSON.stringify(Object.fromEntries(agents.map((a) => [a, target(a)]))) };
    }
    if (program === 'nix-store') onLine('building...');
    return { code: 0, stdout: '' };
  };
  const host = () => ({
    builder: new HostBuilder(
      { flake: 'github:example/fleet', fleetDir: dir, stateDir: join(dir, 'state'), nix: fakeNix },
      { gatherMs: 0 },
    ),
    sshConfig: async () => '/state/ssh_config',
    nix: fakeNix,
  });
  const hostDeps = () => deps({ host: host() });
  beforeEach(() => {
    nixCalls.length = 0;
  });

  it('both phases build on the host, copy over the pinned ssh_config and switch; nixos-rebuild never runs', async () => {
    const r = await provisionAgent(hostDeps(), { agent: 'drago', secrets: ['mail-password'] });
    expect(r).toEqual({ agent: 'drago', ok: true, ran: ['phase1', 'hostkey', 'rekeyed', 'phase2', 'ready'] });
    expect(guest('drago').rebuilds).toEqual([]);
    expect(guest('drago').switched).toEqual([
      `/nix/store/${'x'.repeat(32)}-toplevel-drago`,
      `/nix/store/${'x'.repeat(32)}-toplevel-drago`,
    ]);
    const copies = nixCalls.filter((c) => c.args.includes('copy'));
    expect(copies).toHaveLength(2);
    expect(copies[0]?.args).toContain('ssh-ng://drago');
    expect(copies[0]?.env).toEqual({ NIX_SSHOPTS: '-F /state/ssh_config -o BatchMode=yes' });
  });

  it('a failed activation stops the agent with its tail and log; the next run resumes from that phase', async () => {
    guest('drago').failSwitch = true;
    const failed = await provisionAgent(hostDeps(), { agent: 'drago', secrets: ['mail-password'] });
    expect(failed).toMatchObject({ ok: false, step: 'phase1', message: 'activation exited with 1' });
    if (failed.ok) return;
    expect(failed.tail).toContain('error: a unit failed to start');
    expect(failed.logPath).toBe(join(dir, 'state', 'logs', 'agent-drago.provision.log'));
    guest('drago').failSwitch = false;
    const resumed = await provisionAgent(hostDeps(), { agent: 'drago', secrets: ['mail-password'] });
    expect(resumed).toEqual({
      agent: 'drago',
      ok: true,
      ran: ['phase1', 'hostkey', 'rekeyed', 'phase2', 'ready'],
    });
  });

  it('fleet rebuild of two agents: one nix build for both', async () => {
    const outcomes = await rebuildAgents(
      {
        ...deps(),
        line: () => {},
        host: host(),
      },
      ['drago', 'luce'],
      1,
    );
    expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
    expect(nixCalls.filter((c) => c.args.includes('eval'))).toHaveLength(1);
    expect(nixCalls.filter((c) => c.program === 'nix-store')).toHaveLength(1);
    expect(guest('luce').switched).toHaveLength(1);
  });
});
