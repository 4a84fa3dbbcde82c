// `fleet up/down/plan/status/ssh/spice/add` against a real libvirtd + QEMU (TCG) and the tiny
// test image, through the built CLI. The steps build on each other, like a user's session.
// Bring-up only (`--no-provision`): provisioning past "ssh ready" has its own suite.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ensureLibvirtd,
  ensureTestImage,
  opensshExec,
  passtPidsOf,
  portBlock,
  presentedHostKey,
  spiceHandshakeUnix,
  systemUri,
  type TestImage,
} from '@agentfleet/testing';
import { fleet, fleetOk, fleetSpawn } from '@agentfleet/testing/fleet-cli';
import { removeDomains, writeAgent, writeFleetConfig } from '@agentfleet/testing/provision-fixture';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Generous: TCG guests on a loaded 2-core machine have taken minutes to boot; this bounds a hang, it measures nothing.
const VM_TIMEOUT = 660_000;
const tag = `e${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`;
const [A, B, C, D] = ['a', 'b', 'c', 'd'].map((s) => `${tag}${s}`) as [string, string, string, string];
// A port block of this file's own (no parallel suite allocates from it); the allocator still checks live
// listeners and other domains.
const portBase = portBlock();

let dir: string;
let stateDir: string;
let image: TestImage;

const virsh = (...args: string[]) => execFileSync('virsh', ['-c', systemUri, ...args], { encoding: 'utf8' });
const domState = (name: string) => virsh('domstate', `agent-${name}`).trim();
const domUuid = (name: string) => virsh('domuuid', `agent-${name}`).trim();
const qemuPid = (name: string) => readFileSync(`/run/libvirt/qemu/agent-${name}.pid`, 'utf8').trim();

interface StatusRow {
  name: string;
  state: string;
  sshPort: number;
  spicePort: number;
  cores: number[];
  phase: string;
}
async function status(): Promise<Map<string, StatusRow>> {
  const out = JSON.parse((await fleetOk(dir, ['--json', 'status'])).stdout) as { agents: StatusRow[] };
  return new Map(out.agents.map((a) => [a.name, a]));
}

const writeTinyAgent = (name: string, extra = '') => writeAgent(dir, name, [], extra);

beforeAll(async () => {
  await ensureLibvirtd();
  image = await ensureTestImage();
  dir = mkdtempSync(join(tmpdir(), 'fleet-e2e-'));
  stateDir = join(dir, 'state');
  await writeFleetConfig(dir, image, stateDir, portBase, { diskMode: 'copy', flake: undefined });
  // A has the default network (isolated: its own passt); B the explicit opt-out (QEMU hostfwd).
  await writeTinyAgent(A);
  await writeTinyAgent(B, 'network: open\n');
}, VM_TIMEOUT);

afterAll(() => {
  removeDomains([A, B, C, D], stateDir);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.sequential('fleet on real libvirt + QEMU', () => {
  it(
    'up brings two agents from YAML to SSH-ready, in parallel',
    async () => {
      const r = await fleetOk(dir, ['up', '--no-provision']);
      expect(r.stdout).toContain(`+ agent ${A} will be created`);
      expect(r.stdout).toContain(`+ agent ${B} will be created`);
      expect(r.stdout).toMatch(new RegExp(`${A}: ok \\(create-disk, define, start, await-ssh\\)`));
      const s = await status();
      for (const n of [A, B]) {
        expect(s.get(n)).toMatchObject({ state: 'running', phase: 'ssh-ready' });
        expect(domState(n)).toBe('running');
        expect(existsSync(join(stateDir, `agent-${n}.qcow2`))).toBe(true);
      }
      // Ports come from the allocation, distinct per agent.
      expect(s.get(A)?.sshPort).not.toBe(s.get(B)?.sshPort);
    },
    VM_TIMEOUT,
  );

  it('fleet logs shows the serial console of the boot', async () => {
    const r = await fleetOk(dir, ['logs', A, '-n', '500']);
    expect(r.stdout).toMatch(/AGENTFLEET READY/);
  });

  it('each agent answers SSH on its own port with the host key fleet pinned', async () => {
    const s = await status();
    const knownHosts = join(stateDir, 'known_hosts');
    for (const n of [A, B]) {
      const port = s.get(n)?.sshPort ?? 0;
      // Independent check of the pin: what the server presents is what fleet recorded.
      const presented = await presentedHostKey(port);
      expect(readFileSync(knownHosts, 'utf8')).toContain(`[127.0.0.1]:${port} ${presented}`);
      expect((await opensshExec(port, image.privateKeyPath, knownHosts, 'echo hello-$(id -u)')).trim()).toBe(
        'hello-0',
      );
    }
  });

  it('fleet ssh runs a command; plain ssh -F <stateDir>/ssh_config works too', async () => {
    const r = await fleetOk(dir, ['ssh', A, '--', 'uname', '-a']);
    expect(r.stdout).toMatch(/^Linux /);
    const plain = execFileSync(
      'ssh',
      ['-F', join(stateDir, 'ssh_config'), '-o', 'BatchMode=yes', B, 'uname -s'],
      {
        encoding: 'utf8',
      },
    );
    expect(plain.trim()).toBe('Linux');
    expect(readFileSync(join(stateDir, 'ssh_config'), 'utf8')).toContain('StrictHostKeyChecking yes');
  });

  it('the SPICE socket of each agent completes a SPICE handshake; QEMU listens on no TCP port', async () => {
    for (const n of [A, B]) {
      const socket = join(stateDir, 'run', `agent-${n}`, 'spice.sock');
      expect((await fleetOk(dir, ['spice', n, '--print'])).stdout.trim()).toBe(`spice+unix://${socket}`);
      expect((await spiceHandshakeUnix(socket)).firstMessageType).toBe(103);
      expect(statSync(join(stateDir, 'run', `agent-${n}`)).mode & 0o777).toBe(0o700);
      const args = readFileSync(`/proc/${qemuPid(n)}/cmdline`, 'utf8').split('\0');
      const spice = args[args.indexOf('-spice') + 1] ?? '';
      expect(spice).toMatch(new RegExp(`^unix(=on)?,addr=${socket},`));
      expect(spice).not.toMatch(/port=/);
    }
    const vv = join(dir, `${A}.vv`);
    await fleetOk(dir, ['spice', A, '--vv', vv]);
    expect(readFileSync(vv, 'utf8')).toContain(
      `unix-path=${join(stateDir, 'run', `agent-${A}`, 'spice.sock')}`,
    );
    expect(statSync(vv).mode & 0o777).toBe(0o600);
  });

  it('vcpupin of each domain is what the ledger says; one NIC: A on its passt, B by hostfwd', async () => {
    const s = await status();
    // libvirt 9.0 here has no passt backend: open mode's auto chose QEMU's hostfwd.
    expect(virsh('dumpxml', `agent-${B}`)).toContain(`hostfwd=tcp:127.0.0.1:${s.get(B)?.sshPort}-:22`);
    const passtSocket = join(stateDir, 'run', `agent-${A}`, 'passt.sock');
    expect(virsh('dumpxml', `agent-${A}`)).toContain(`addr.path=${passtSocket}`);
    // As root its passt is confined (networkFirewall): it serves the socket the domain names through a link.
    expect(passtPidsOf([A])).toHaveLength(1);
    for (const n of [A, B]) {
      const xml = virsh('dumpxml', `agent-${n}`);
      expect(xml).not.toContain('<interface');
      const cores = s.get(n)?.cores ?? [];
      expect(cores.length).toBe(1);
      const pin = virsh('vcpupin', `agent-${n}`);
      // " 0      1" -> vCPU 0 pinned to core 1
      const rows = pin
        .split('\n')
        .map((l) => l.trim().match(/^(\d+)\s+(\S+)$/))
        .filter((m): m is RegExpMatchArray => m !== null);
      expect(rows.map((m) => [Number(m[1]), m[2]])).toEqual(cores.map((c, i) => [i, String(c)]));
    }
  });

  it(
    'a third agent added as a YAML file comes up without touching the other two',
    async () => {
      const before = [A, B].map((n) => [domUuid(n), qemuPid(n)]);
      await writeTinyAgent(C);
      const plan = await fleetOk(dir, ['plan', '--no-provision']);
      expect(plan.stdout).toContain(`+ agent ${C} will be created`);
      expect(plan.stdout).toContain(`= agent ${A} is up to date`);
      const r = await fleetOk(dir, ['up', '--no-provision']);
      expect(r.stdout).toContain(`${C}: ok`);
      expect(r.stdout).not.toContain(`${A}: ok`);
      expect([A, B].map((n) => [domUuid(n), qemuPid(n)])).toEqual(before);
      expect((await status()).get(C)).toMatchObject({ state: 'running', phase: 'ssh-ready' });
    },
    VM_TIMEOUT,
  );

  it('a second up does nothing when everything is up', async () => {
    const pids = [A, B, C].map(qemuPid);
    const r = await fleetOk(dir, ['up', '--no-provision']);
    expect(r.stdout).toContain('Nothing to do');
    expect([A, B, C].map(qemuPid)).toEqual(pids);
  });

  it(
    'down shuts every agent down through ACPI (no forced power-off); disks stay',
    async () => {
      const r = await fleetOk(dir, ['down']);
      expect(r.stderr).not.toContain('forcing off');
      for (const n of [A, B, C]) {
        expect(domState(n)).toBe('shut off');
        // The guest's ACPI power-button handler writes this before powering off.
        expect(readFileSync(join(stateDir, `agent-${n}.console.log`), 'utf8')).toContain(
          'AGENTFLEET POWEROFF',
        );
        expect(existsSync(join(stateDir, `agent-${n}.qcow2`))).toBe(true);
      }
      // A's passt went with its domain.
      expect(passtPidsOf([A])).toEqual([]);
    },
    VM_TIMEOUT,
  );

  it(
    'plan shows a domain edited by hand; up puts it back and reuses every disk',
    async () => {
      const xml = virsh('dumpxml', '--inactive', `agent-${A}`);
      const edited = join(dir, 'edited.xml');
      writeFileSync(
        edited,
        xml
          .replace(/<memory unit='KiB'>\d+<\/memory>/, "<memory unit='KiB'>393216</memory>")
          .replace(
            /<currentMemory unit='KiB'>\d+<\/currentMemory>/,
            "<currentMemory unit='KiB'>393216</currentMemory>",
          ),
      );
      virsh('define', edited);
      const plan = await fleetOk(dir, ['plan', '--no-provision', A]);
      expect(plan.stdout).toContain(`~ agent ${A} will be updated`);
      expect(plan.stdout).toContain('~ memory: 384 MiB -> 256 MiB');
      expect(plan.stdout).toContain('domain edited outside fleet');

      const inodes = [A, B, C].map((n) => statSync(join(stateDir, `agent-${n}.qcow2`)).ino);
      const r = await fleetOk(dir, ['--json', 'up', '--no-provision']);
      const out = JSON.parse(r.stdout) as { ok: boolean; outcomes: { agent: string; steps: string[] }[] };
      expect(out.ok).toBe(true);
      for (const o of out.outcomes) expect(o.steps).not.toContain('create-disk');
      expect(out.outcomes.find((o) => o.agent === A)?.steps).toEqual(['define', 'start', 'await-ssh']);
      expect([A, B, C].map((n) => statSync(join(stateDir, `agent-${n}.qcow2`)).ino)).toEqual(inodes);
      expect(virsh('dumpxml', '--inactive', `agent-${A}`)).toContain("<memory unit='KiB'>262144</memory>");
      for (const n of [A, B, C]) expect(domState(n)).toBe('running');
    },
    VM_TIMEOUT,
  );

  it(
    'an up killed with SIGKILL mid-way is finished by the next up',
    async () => {
      await writeTinyAgent(D);
      const child = fleetSpawn(dir, ['up', '--no-provision', D]);
      let said = '';
      child.stdout.on('data', (d) => {
        said += d;
      });
      child.stderr.on('data', (d) => {
        said += d;
      });
      // Kill it once the domain exists and is booting, before SSH was reached (a bound on a hang: the CLI's start
      // and the disk copy have taken tens of seconds on a loaded machine).
      const deadline = Date.now() + 300_000;
      for (;;) {
        const state = existsSync(join(stateDir, 'state.json'))
          ? (JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')) as {
              agents: Record<string, { phase: string }>;
            })
          : { agents: {} };
        if (state.agents[D]?.phase === 'started') break;
        if (Date.now() > deadline || child.exitCode !== null) {
          throw new Error(`fleet up never reached the started phase; it said:\n${said}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      // Frozen where it is, holding the lock: were it to reach SSH and finish first (a quick boot), the `down`
      // below would take the lock and shut D down instead of being refused.
      child.kill('SIGSTOP');
      // While it runs, a second mutating command is refused with the holder named.
      const blocked = await fleet(dir, ['down', D]);
      expect(blocked.code).toBe(1);
      expect(blocked.stderr).toContain(
        `another fleet command is running: pid ${child.pid} (\`fleet --dir ${dir} up --no-provision ${D}\``,
      );
      child.kill('SIGKILL');
      await new Promise((r) => child.on('close', r));
      expect(existsSync(join(stateDir, 'fleet.lock'))).toBe(true); // the dead holder's lock is left behind

      const plan = await fleetOk(dir, ['plan', '--no-provision', D]);
      expect(plan.stdout).toContain(`> agent ${D} will be resumed`);
      const r = await fleetOk(dir, ['--json', 'up', '--no-provision']);
      const out = JSON.parse(r.stdout) as { outcomes: { agent: string; steps: string[] }[] };
      expect(out.outcomes).toEqual([{ agent: D, ok: true, steps: ['await-ssh'] }]);
      expect(
        virsh('list', '--all', '--name')
          .split('\n')
          .filter((l) => l.trim() === `agent-${D}`),
      ).toHaveLength(1);
      expect((await status()).get(D)).toMatchObject({ state: 'running', phase: 'ssh-ready' });
      expect((await fleet(dir, ['ssh', D, '--', 'true'])).code).toBe(0);
    },
    VM_TIMEOUT,
  );

  it('refuses an agent that presents a host key other than the pinned one', async () => {
    const statePath = join(stateDir, 'state.json');
    const original = readFileSync(statePath, 'utf8');
    const keyDir = mkdtempSync(join(tmpdir(), 'fleet-otherkey-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(keyDir, 'k')]);
    const other = readFileSync(join(keyDir, 'k.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
    rmSync(keyDir, { recursive: true });
    const state = JSON.parse(original) as { agents: Record<string, { phase: string; hostKey?: string }> };
    const agent = state.agents[A];
    if (!agent) throw new Error(`no state for ${A}`);
    // As if fleet had pinned another machine's key, and SSH readiness was not yet recorded.
    agent.hostKey = other;
    agent.phase = 'started';
    writeFileSync(statePath, JSON.stringify(state));
    const r = await fleet(dir, ['up', '--no-provision', A]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/does not match its pinned key/);
    expect(JSON.parse(readFileSync(statePath, 'utf8')).agents[A].hostKey).toBe(other);
    writeFileSync(statePath, original);
  });

  it('an unknown agent name is a usage error (exit 2) that lists the agents', async () => {
    const r = await fleet(dir, ['up', 'nosuch']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`no agent named 'nosuch' (agents: ${A}, ${B}, ${C}, ${D})`);
  });

  it('fleet add writes a valid agent file and allocates it; a bad name writes nothing; remove undoes it', async () => {
    const E = `${tag}e`;
    const bad = await fleet(dir, ['add', 'Bad_Name', '--git-email', 'x@example.org']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/'Bad_Name' is not a valid agent name/);
    expect(existsSync(join(dir, 'agents', 'Bad_Name.yaml'))).toBe(false);

    const r = await fleetOk(dir, [
      'add',
      E,
      '--memory',
      '256MiB',
      '--vcpus',
      '1',
      '--share-cores',
      '--git-email',
      'e@example.org',
    ]);
    expect(r.stdout).toMatch(/added agents\/.*\.yaml \(ssh \d+, spice \d+, cores \d+\)/);
    expect(readFileSync(join(dir, 'agents', 'ledger.yaml'), 'utf8')).toContain(`${E}:`);
    expect((await fleetOk(dir, ['plan', '--no-provision', E])).stdout).toContain(
      `+ agent ${E} will be created`,
    );

    await fleetOk(dir, ['remove', '--yes', E]);
    expect(existsSync(join(dir, 'agents', `${E}.yaml`))).toBe(false);
    expect(readFileSync(join(dir, 'agents', 'ledger.yaml'), 'utf8')).not.toContain(`${E}:`);
  });

  it(
    'destroy --purge undefines and deletes the disk; without --purge the disk stays',
    async () => {
      await fleetOk(dir, ['destroy', '--yes', C]);
      expect(virsh('list', '--all', '--name')).not.toContain(`agent-${C}`);
      expect(existsSync(join(stateDir, `agent-${C}.qcow2`))).toBe(true);
      // As provisioning would have recorded it (secrets.nix makes it a recipient).
      mkdirSync(join(dir, 'secrets', 'hosts'), { recursive: true });
      writeFileSync(join(dir, 'secrets', 'hosts', `${D}.pub`), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA\n');
      const purge = await fleetOk(dir, ['destroy', '--purge', '--yes', D]);
      expect(existsSync(join(stateDir, `agent-${D}.qcow2`))).toBe(false);
      expect(purge.stdout).toContain(`removed secrets/hosts/${D}.pub`);
      expect(existsSync(join(dir, 'secrets', 'hosts', `${D}.pub`))).toBe(false);
      // A purged agent's pinned key goes with it; the others stay reachable by name.
      const sshConfig = readFileSync(join(stateDir, 'ssh_config'), 'utf8');
      expect(sshConfig).not.toContain(`Host ${D}\n`);
      expect(sshConfig).toContain(`Host ${A}\n`);
    },
    VM_TIMEOUT,
  );

  it(
    'an agent whose YAML was deleted by hand is shown as orphaned, left alone, and purged when named',
    async () => {
      rmSync(join(dir, 'agents', `${B}.yaml`));
      const plan = await fleetOk(dir, ['plan', '--no-provision']);
      expect(plan.stdout).toContain(
        `? agent ${B} is orphaned (not managed; \`fleet destroy ${B} --purge\` removes it)`,
      );
      await fleetOk(dir, ['up', '--no-provision']);
      expect(domState(B)).toBe('running');
      await fleetOk(dir, ['destroy', '--purge', '--yes', B]);
      expect(virsh('list', '--all', '--name')).not.toContain(`agent-${B}`);
      expect(existsSync(join(stateDir, `agent-${B}.qcow2`))).toBe(false);
      expect((await fleet(dir, ['destroy', 'nosuch'])).code).toBe(2);
    },
    VM_TIMEOUT,
  );
});
