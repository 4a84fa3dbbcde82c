// Two fleets on one libvirt host (qemu:///system), same agent name, distinct repos, state dirs and
// port ranges: each touches only its own domains. Plus `fleet import` of a domain made by hand
// with virsh, and the confirmation of destructive commands on a pipe and on a terminal.
// Two VMs boot in this file (A's and B's alpha); the imported domain is only defined.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureLibvirtd, ensureTestImage, portBlock, systemUri, type TestImage } from '@agentfleet/testing';
import { fleet, fleetMain, fleetOk } from '@agentfleet/testing/fleet-cli';
import { writeAgent, writeFleetConfig } from '@agentfleet/testing/provision-fixture';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Generous: TCG guests on a loaded 2-core machine have taken minutes to boot; this bounds a hang, it measures nothing.
const VM_TIMEOUT = 660_000;
const tag = `ow${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`;
const ALPHA = `${tag}a`;
const HAND = `${tag}h`;
const B_PREFIX = `${tag}b-`;
// Fleet A's ports from the block's start (the hand-made domain's inside them), B's 200 above.
const portsA = portBlock(400);
const portsB = portsA + 200;
const [HAND_SSH, HAND_SPICE] = [portsA + 10, portsA + 110];

let root: string;
let dirA: string;
let dirB: string;
let image: TestImage;
let handDisk: string;

const virsh = (...args: string[]) =>
  execFileSync('virsh', ['-c', systemUri, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const domains = () => virsh('list', '--all', '--name').split('\n').filter(Boolean);
const domState = (name: string) => virsh('domstate', name).trim();
const domUuid = (name: string) => virsh('domuuid', name).trim();

const writeFleet = (dir: string, ports: number, settings: Record<string, string> = {}) =>
  writeFleetConfig(dir, image, join(dir, 'state'), ports, {
    diskMode: 'copy',
    flake: undefined,
    ...settings,
  });

// QEMU hostfwd networking: this suite is about ownership; isolation has its own.
const writeOpenAgent = (dir: string, name: string) => writeAgent(dir, name, [], 'network: open\n');

beforeAll(async () => {
  await ensureLibvirtd();
  image = await ensureTestImage();
  root = mkdtempSync(join(tmpdir(), 'owner-e2e-'));
  dirA = join(root, 'fleet-a');
  dirB = join(root, 'fleet-b');
  await writeFleet(dirA, portsA);
  await writeFleet(dirB, portsB);
  await writeOpenAgent(dirA, ALPHA);
  await writeOpenAgent(dirB, ALPHA);
}, VM_TIMEOUT);

afterAll(() => {
  for (const name of [`agent-${ALPHA}`, `${B_PREFIX}${ALPHA}`, `agent-${HAND}`]) {
    for (const cmd of ['destroy', 'undefine']) {
      try {
        virsh(cmd, name);
      } catch {}
    }
  }
  if (root) rmSync(root, { recursive: true, force: true });
});

describe.sequential('two fleets on one host', () => {
  it(
    "fleet A brings alpha up; B's plan blocks its own alpha on A's domain, naming A",
    async () => {
      await fleetOk(dirA, ['up', '--no-provision']);
      expect(domState(`agent-${ALPHA}`)).toBe('running');
      const fleetId = /fleetId: (\S+)/.exec(readFileSync(join(dirA, 'agents', 'ledger.yaml'), 'utf8'))?.[1];
      expect(fleetId).toBeDefined();
      // The domain carries A's identity: id, repository and state dir.
      const xml = virsh('dumpxml', `agent-${ALPHA}`);
      expect(xml).toContain(`fleet="${fleetId}"`);
      expect(xml).toContain(`fleetDir="${dirA}"`);
      expect(xml).toContain(`stateDir="${join(dirA, 'state')}"`);

      // A blocked agent is a plan `up` cannot carry out: plan exits 1 (and says why).
      const plan = await fleet(dirB, ['plan', '--no-provision']);
      expect(plan.code).toBe(1);
      expect(plan.stdout).toContain(`! agent ${ALPHA} is BLOCKED`);
      expect(plan.stdout).toContain(
        `another fleet (id ${fleetId}, fleet dir ${dirA}, state dir ${join(dirA, 'state')})`,
      );
      expect(plan.stdout).toContain('set a domainPrefix in fleet.yaml');
      expect(plan.stdout).not.toContain('orphaned');
    },
    VM_TIMEOUT,
  );

  it(
    'import adopts a domain made by hand with virsh: its disk, ports and MAC are recorded and kept',
    async () => {
      handDisk = join(root, 'hand-made.qcow2');
      copyFileSync(image.baseImage, handDisk);
      const before = statSync(handDisk);
      const xml = `<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>agent-${HAND}</name>
  <memory unit='MiB'>256</memory>
  <vcpu placement='static'>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type><boot dev='hd'/></os>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${handDisk}'/><target dev='vda' bus='virtio'/></disk>
    <graphics type='spice' port='${HAND_SPICE}' autoport='no'><listen type='address' address='127.0.0.1'/></graphics>
  </devices>
  <qemu:commandline>
    <qemu:arg value='-netdev'/><qemu:arg value='user,id=net0,hostfwd=tcp:127.0.0.1:${HAND_SSH}-:22'/>
    <qemu:arg value='-device'/><qemu:arg value='virtio-net-pci,netdev=net0,mac=52:54:00:0e:0e:01,bus=pcie.0,addr=0x10'/>
  </qemu:commandline>
</domain>`;
      writeFileSync(join(root, 'hand.xml'), xml);
      virsh('define', join(root, 'hand.xml'));
      await writeOpenAgent(dirA, HAND);

      // Declared but not imported: the domain is nobody's, so up would not touch it.
      const plan = await fleet(dirA, ['plan', '--no-provision', HAND]);
      expect(plan.code).toBe(1);
      expect(plan.stdout).toContain(`! agent ${HAND} is BLOCKED`);
      expect(plan.stdout).toContain(`adopt the domain with \`fleet import ${HAND}\``);

      const dry = await fleetOk(dirA, ['import', '--dry-run', HAND]);
      expect(dry.stdout).toContain(`Would import domain agent-${HAND}`);
      expect(dry.stdout).toContain(`sshPort: ${HAND_SSH} (kept)`);
      expect(dry.stdout).toContain(`spicePort: ${HAND_SPICE} (kept)`);
      expect(dry.stdout).toContain('mac: 52:54:00:0e:0e:01 (kept)');
      expect(dry.stdout).toContain(`disk: ${handDisk} (kept)`);
      expect(dry.stdout).toContain('Dry run: nothing changed.');
      expect(virsh('dumpxml', `agent-${HAND}`)).not.toContain('agentfleet');

      const r = await fleetOk(dirA, ['import', HAND]);
      expect(r.stdout).toContain(`Imported domain agent-${HAND}`);
      const ledger = readFileSync(join(dirA, 'agents', 'ledger.yaml'), 'utf8');
      expect(ledger).toContain(`disk: ${handDisk}`);
      expect(ledger).toMatch(
        new RegExp(`${HAND}:\\n\\s+sshPort: ${HAND_SSH}\\n\\s+spicePort: ${HAND_SPICE}`),
      );
      const after = virsh('dumpxml', `agent-${HAND}`);
      expect(after).toContain(`fleetDir="${dirA}"`);
      expect(after).toContain(`<source file='${handDisk}'`);
      expect(after).toContain(`hostfwd=tcp:127.0.0.1:${HAND_SSH}-:22`);
      expect(after).toContain('mac=52:54:00:0e:0e:01');
      // The disk is the same file, untouched.
      const now = statSync(handDisk);
      expect([now.ino, now.size, now.mtimeMs]).toEqual([before.ino, before.size, before.mtimeMs]);
      // Now it is A's: up would start it, on its own disk.
      const next = await fleetOk(dirA, ['plan', '--no-provision', HAND]);
      expect(next.stdout).toContain(`> agent ${HAND} will be started`);
      expect(next.stdout).not.toContain('create-disk');
      // ...and B, which does not declare it, never lists it.
      expect((await fleet(dirB, ['plan', '--no-provision'])).stdout).not.toContain(HAND);
    },
    VM_TIMEOUT,
  );

  it(
    "B's up, destroy and destroy --purge of alpha never touch A's domain or disk",
    async () => {
      const uuid = domUuid(`agent-${ALPHA}`);
      const up = await fleet(dirB, ['up', '--no-provision']);
      expect(up.code).toBe(1);
      expect(up.stdout).toContain(`belongs to another fleet (id`);
      expect(up.stdout).toContain(`fleet dir ${dirA}`);
      for (const args of [
        ['destroy', '--yes', ALPHA],
        ['destroy', '--purge', '--yes', ALPHA],
      ]) {
        const r = await fleetOk(dirB, args);
        expect(r.stdout).toContain('not touching it');
        expect(domState(`agent-${ALPHA}`)).toBe('running');
        expect(domUuid(`agent-${ALPHA}`)).toBe(uuid);
        expect(existsSync(join(dirA, 'state', `agent-${ALPHA}.qcow2`))).toBe(true);
      }
    },
    VM_TIMEOUT,
  );

  it(
    'with a domainPrefix, B runs its alpha beside A',
    async () => {
      await writeFleet(dirB, portsB, { domainPrefix: B_PREFIX });
      await fleetOk(dirB, ['up', '--no-provision']);
      expect(domState(`${B_PREFIX}${ALPHA}`)).toBe('running');
      expect(domState(`agent-${ALPHA}`)).toBe('running');
    },
    VM_TIMEOUT,
  );

  it('destroy asks: refused on a pipe (exit 2), asked on a terminal, nothing done without yes', async () => {
    const piped = await fleet(dirB, ['destroy', ALPHA]);
    expect(piped.code).toBe(2);
    expect(piped.stderr).toContain('fleet destroy would delete:');
    expect(piped.stderr).toContain(`${ALPHA}: undefine domain ${B_PREFIX}${ALPHA} on ${systemUri}`);
    expect(piped.stderr).toContain('run again with --yes');

    // util-linux `script` gives the command a terminal; the answer is typed into it.
    const cmd = `${process.execPath} ${fleetMain} --dir ${dirB} destroy ${ALPHA}`;
    const tty = spawnSync('script', ['-qec', cmd, '/dev/null'], {
      input: 'n\n',
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(tty.stdout).toContain('fleet destroy will delete:');
    expect(tty.stdout).toContain('Proceed? [y/N]');
    expect(tty.stdout).toContain('Not confirmed: nothing was changed.');
    expect(tty.status).toBe(1);
    expect(domState(`${B_PREFIX}${ALPHA}`)).toBe('running');
  });

  it(
    "destroy --purge from B: the dry run and the real run agree; every file of B's alpha goes, A's stays",
    async () => {
      const stateB = join(dirB, 'state');
      expect(existsSync(join(stateB, `agent-${ALPHA}.console.log`))).toBe(true);
      const dry = JSON.parse(
        (await fleetOk(dirB, ['--json', 'destroy', '--purge', '--dry-run', ALPHA])).stdout,
      );
      const planned = dry.plan.actions.map((a: { agent: string; steps: string[] }) => [a.agent, a.steps]);
      expect(planned).toEqual([[ALPHA, ['power-off', 'undefine', 'delete-disk', 'delete-files']]]);

      const r = await fleetOk(dirB, ['destroy', '--purge', '--yes', ALPHA]);
      expect(r.stdout).toContain(`${ALPHA}: ok (power-off, undefine, delete-disk, delete-files)`);
      expect(r.stdout).toContain(`deleted ${join(stateB, `agent-${ALPHA}.qcow2`)}`);
      expect(r.stdout).toContain(`deleted ${join(stateB, `agent-${ALPHA}.console.log`)}`);
      expect(domains()).not.toContain(`${B_PREFIX}${ALPHA}`);
      expect(existsSync(join(stateB, `agent-${ALPHA}.qcow2`))).toBe(false);
      expect(existsSync(join(stateB, `agent-${ALPHA}.console.log`))).toBe(false);
      expect(JSON.parse(readFileSync(join(stateB, 'state.json'), 'utf8')).agents[ALPHA]).toBeUndefined();

      expect(domState(`agent-${ALPHA}`)).toBe('running');
      expect(existsSync(join(dirA, 'state', `agent-${ALPHA}.qcow2`))).toBe(true);
      expect(existsSync(join(dirA, 'state', `agent-${ALPHA}.console.log`))).toBe(true);
    },
    VM_TIMEOUT,
  );
});
