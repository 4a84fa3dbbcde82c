// Every --json output of the built CLI (success, failure, usage error) validates against its
// published schema in docs/json/, and exit codes follow the table in docs/json.md.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectSchema, jsonRun } from '@agentfleet/testing/json-schemas';
import { runCli, tempFleet } from '@agentfleet/testing/run-cli';
import { describe, expect, it } from 'vitest';

// test:///default needs no daemon: plan and status read an empty host.
const fleetFiles = {
  'agents/fleet.yaml':
    'libvirtUri: test:///default\nstateDir: ./state\nbaseImage: ./base.qcow2\nreservedCores: []\nsshPorts: { start: 37600, end: 37650 }\nspicePorts: { start: 37700, end: 37750 }\n',
  'agents/clj.yaml': 'memory: 256MiB\nvcpus: 1\nshareCores: true\ngit: { email: clj@example.org }\n',
  'base.qcow2': '',
};

describe('--json contract', () => {
  const dir = tempFleet(fleetFiles);

  it('validate, allocate, status and plan validate against their schemas', () => {
    expect(jsonRun(dir, ['validate'], 'validate', 0)).toMatchObject({ ok: true, command: 'validate' });
    jsonRun(dir, ['allocate'], 'allocate', 0);
    const status = jsonRun(dir, ['status'], 'status', 0);
    expect(status.agents).toMatchObject([{ name: 'clj', state: 'undefined', phase: 'declared' }]);
    const plan = jsonRun(dir, ['plan'], 'plan', 0) as { plan: { actions: Record<string, unknown>[] } };
    // No internals: the desired XML, spec hashes and raw QEMU arguments stay inside.
    expect(JSON.stringify(plan)).not.toMatch(/specHash|qemu:commandline|<domain/);
    expect(plan.plan.actions[0]).toMatchObject({ agent: 'clj', kind: 'create', phase: 'declared' });
  });

  it('a damaged state.json: status and plan still answer and name the damage; up refuses', () => {
    const damaged = tempFleet({ ...fleetFiles, 'state/state.json': '{"version": 1, "agents": {"clj": ' });
    const status = jsonRun(damaged, ['status'], 'status', 0);
    expect(status.agents).toMatchObject([{ name: 'clj', state: 'undefined' }]);
    expect(status.stateDamage).toMatch(/state\.json: not valid JSON/);
    const human = runCli(['status'], damaged);
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/clj[\s\S]*state\.json is damaged \(.*state\.json: not valid JSON/);
    const plan = runCli(['plan'], damaged);
    expect(plan.status, plan.stderr).toBe(0);
    expect(plan.stderr).toMatch(/state\.json: not valid JSON.*the plan below assumes nothing was recorded/);
    const up = runCli(['up'], damaged);
    expect(up.status).toBe(1);
    expect(up.stderr).toMatch(/state\.json: not valid JSON/);
  });

  it('usage errors, unknown agents and invalid files are error envelopes with exit 2', () => {
    for (const args of [['bogus'], ['status', 'nosuch'], ['plan', 'nosuch'], ['up', '--concurrency', '0']]) {
      const out = jsonRun(dir, args, 'error', 2);
      // Every usage error says where to look, if it knows nothing better: the command's help.
      expect(out.error, args.join(' ')).toMatchObject({ code: 'usage', remedy: expect.stringMatching(/./) });
    }
    expect(jsonRun(dir, ['status', 'nosuch'], 'error', 2).error).toMatchObject({
      remedy: 'see `fleet status --help`',
    });
    const bad = tempFleet({ ...fleetFiles, 'agents/clj.yaml': 'vcpus: many\n' });
    const out = jsonRun(bad, ['validate'], 'validate', 2);
    expect(out).toMatchObject({
      ok: false,
      error: { code: 'invalid', remedy: expect.stringContaining('fleet validate') },
      diagnostics: [{ file: 'agents/clj.yaml' }],
    });
  }, 120_000);

  it('a failure is an error envelope with exit 1', () => {
    // No base image: the plan cannot say what a new disk would copy.
    const { 'base.qcow2': _, ...withoutBase } = fleetFiles;
    const r = runCli(['--json', 'plan'], tempFleet(withoutBase));
    expect(r.status, r.stderr).toBe(1);
    expect(expectSchema(r.stdout, 'error')).toMatchObject({
      error: { remedy: expect.stringContaining('result/nixos.qcow2') },
    });
  });
});

describe('commands that need no VM', () => {
  const dir = tempFleet(fleetFiles);

  it('spice --print and --vv validate; without a display, a remedy instead of a GTK warning', () => {
    expect(runCli(['allocate'], dir).status).toBe(0);
    const printed = jsonRun(dir, ['spice', 'clj', '--print'], 'spice', 0);
    expect(printed.uri).toMatch(/^spice\+unix:\/\/\/.*agent-clj\/spice\.sock$/);
    const vv = join(dir, 'clj.vv');
    expect(jsonRun(dir, ['spice', 'clj', '--vv', vv], 'spice', 0)).toMatchObject({ file: vv });
    const r = runCli(['spice', 'clj'], dir, { DISPLAY: '', WAYLAND_DISPLAY: '' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('no display');
    expect(r.stderr).toContain('fleet spice clj --print');
    expect(r.stderr).not.toMatch(/Gtk|cannot open display/i);
    const out = jsonRun(dir, ['spice', 'clj'], 'spice', 0, { DISPLAY: '', WAYLAND_DISPLAY: '' });
    // --json never opens a viewer: it is the URI, display or not.
    expect(out.uri).toBeDefined();
  });

  it("add's result validates; its schema modeline points at the agent schema from a fleet outside the repository", () => {
    const out = jsonRun(
      dir,
      [
        'add',
        'c2add',
        '--memory',
        '256MiB',
        '--vcpus',
        '1',
        '--share-cores',
        '--git-email',
        'c2@example.org',
      ],
      'add',
      0,
    );
    expect(out).toMatchObject({ file: 'agents/c2add.yaml', allocation: { sshPort: expect.any(Number) } });
    const ref = /\$schema=(\S+)/.exec(readFileSync(join(dir, 'agents', 'c2add.yaml'), 'utf8'))?.[1] ?? '';
    expect(existsSync(join(dir, 'agents', ref)), ref).toBe(true);
    rmSync(join(dir, 'agents', 'c2add.yaml'));
  });

  it('xml and completion validate; ssh and console, sessions, refuse --json with a usage error', () => {
    expect(runCli(['allocate'], dir).status).toBe(0);
    const xml = jsonRun(dir, ['xml', 'clj', '--network', 'open'], 'xml', 0);
    expect(xml).toMatchObject({ agent: 'clj', xml: expect.stringMatching(/^<domain[\s\S]*<\/domain>\n?$/) });
    const completion = jsonRun('/', ['completion', 'fish'], 'completion', 0);
    expect(completion.script).toMatch(/complete -c fleet/);
    for (const session of [
      ['ssh', 'clj'],
      ['console', 'clj'],
    ]) {
      expect(jsonRun(dir, session, 'error', 2).error, session[0]).toMatchObject({
        code: 'usage',
        message: expect.stringContaining('no --json'),
      });
    }
  });

  it("logs validates: the console log's last lines, or none yet", () => {
    expect(jsonRun(dir, ['logs', 'clj'], 'logs', 0)).toMatchObject({ lines: [] });
    mkdirSync(join(dir, 'state'), { recursive: true });
    writeFileSync(join(dir, 'state', 'agent-clj.console.log'), 'booting\nlogin: \x1b]0;title\x07\n');
    const out = jsonRun(dir, ['logs', 'clj', '-n', '1'], 'logs', 0);
    expect(out).toMatchObject({ path: join(dir, 'state', 'agent-clj.console.log') });
    expect(out.lines).toHaveLength(1);
  });

  it('secrets list in a fleet without secrets.nix: no secrets configured, not a nix-instantiate error', () => {
    expect(jsonRun(dir, ['secrets', 'list'], 'secrets-list', 0)).toMatchObject({ ok: true, secrets: [] });
    const r = runCli(['secrets', 'list'], dir);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('no secrets configured');
    expect(r.stderr).toBe('');
  });
});

describe('fleet doctor', () => {
  // A real qcow2 header and a key file: what doctor checks of them is that they are there and what they are.
  const qcow2 = Buffer.concat([
    Buffer.from([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]),
    Buffer.alloc(504),
  ]).toString('latin1');
  const healthy = {
    ...fleetFiles,
    'agents/fleet.yaml': `${fleetFiles['agents/fleet.yaml']}ssh: { identityFile: ./admin_key }\n`,
    admin_key: 'not checked beyond being a file\n',
    'secrets/admins/c2.pub': 'ssh-ed25519 AAAA c2\n',
  };

  it('on this machine: every check passes or warns, exit 0, output validates', () => {
    const dir = tempFleet(healthy);
    writeFileSync(join(dir, 'base.qcow2'), qcow2, 'latin1');
    const out = jsonRun(dir, ['doctor'], 'doctor', 0) as { checks: { check: string; status: string }[] };
    const byName = Object.fromEntries(out.checks.map((c) => [c.check, c.status]));
    expect(byName).toMatchObject({
      'libvirt test:///default': 'ok',
      passt: 'ok',
      'qemu-img': 'ok',
      git: 'ok',
      'admin identity': 'ok',
      'admin recipients': 'ok',
      'base image': 'ok',
      'ssh ports': 'ok',
    });
    // The test driver offers no KVM: a warning (agents run under TCG), not a failure.
    expect(byName['kvm test:///default']).toBe('warn');
  });

  it('with pieces missing: each is a fail with a remedy, exit 1', () => {
    // A PATH holding only qemu-img and git: passt (isolated agents need it) is missing.
    const bin = mkdtempSync(join(tmpdir(), 'cli2-doctor-bin-'));
    for (const tool of ['qemu-img', 'git']) symlinkSync(`/usr/bin/${tool}`, join(bin, tool));
    try {
      const dir = tempFleet(healthy);
      writeFileSync(join(dir, 'base.qcow2'), 'not an image');
      const out = jsonRun(dir, ['doctor'], 'doctor', 1, { PATH: bin }) as {
        checks: { check: string; status: string; remedy?: string }[];
        error: { message: string };
      };
      const fail = out.checks.filter((c) => c.status === 'fail');
      expect(fail.map((c) => c.check).sort()).toEqual(['base image', 'passt']);
      expect(fail.every((c) => c.remedy)).toBe(true);
      expect(out.error.message).toContain('passt');
      expect(out.checks.find((c) => c.check === 'remote-viewer')?.status).toBe('warn');
      const human = runCli(['doctor'], dir, { PATH: bin });
      expect(human.status).toBe(1);
      expect(human.stdout).toMatch(/fail\s+base image\s+.*is not a qcow2 image/);
      expect(human.stdout).toContain('apt-get install passt');
      rmSync(join(dir, 'base.qcow2'));
      expect(runCli(['doctor'], dir).stdout).toMatch(
        /fail\s+base image\s+.*does not exist\n.*result\/nixos.qcow2/,
      );
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});

describe('exit codes', () => {
  it('--version prints the version and exits 0', () => {
    const r = runCli(['--version'], '/');
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect(r.status).toBe(0);
  });

  it('plan --detailed-exitcode: 2 when up has work, 0 when not', () => {
    const dir = tempFleet(fleetFiles);
    expect(runCli(['plan', '--detailed-exitcode'], dir).status).toBe(2);
    expect(runCli(['plan'], dir).status).toBe(0);
    const none = tempFleet({ 'agents/fleet.yaml': fleetFiles['agents/fleet.yaml'], 'base.qcow2': '' });
    expect(runCli(['plan', '--detailed-exitcode'], none).status).toBe(0);
  });
});
