// Day-2 operations on one real agent (TCG VM from the test image, isolated network through passt):
// status with domain stats, status --watch seeing a `down`, snapshot/revert, reset and fleet cp.
// One VM for the whole file; the watch case stops it, so it runs last.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ensureLibvirtd,
  ensureTestImage,
  portBlock,
  stopPassts,
  systemUri,
  type TestImage,
} from '@agentfleet/testing';
import { fleet, fleetMain, fleetOk } from '@agentfleet/testing/fleet-cli';
import { makeSecretsFleet, writeAgent, writeFleetConfig } from '@agentfleet/testing/provision-fixture';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const LIMIT = 300_000;
const agent = `db${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`;
const domain = `agent-${agent}`;

let dir: string;
let stateDir: string;
let image: TestImage;

/** `fleet ssh` as users run it: the system ssh with fleet's ssh_config and pinned known_hosts. */
const inGuest = async (cmd: string) => {
  const r = await fleet(dir, ['ssh', agent, '--', cmd]);
  return { code: r.code, out: r.stdout, err: r.stderr };
};

const pinned = async () =>
  JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8')).agents[agent].hostKey;

beforeAll(async () => {
  await ensureLibvirtd();
  image = await ensureTestImage();
  const repo = await makeSecretsFleet({ [agent]: [] }, {}, image.privateKeyPath);
  dir = repo.dir;
  stateDir = join(dir, 'state');
  await writeFleetConfig(dir, image, stateDir, portBlock());
  // Isolation is not under test here: slirp's hostfwd keeps the one VM simple (see isolation.e2e).
  await writeAgent(dir, agent, [], 'network: open\n');
  // A guest that makes its own host key: reset must read it from the guest to keep the identity.
  await fleetOk(dir, ['up', agent, '--no-pregenerate-host-keys']);
}, LIMIT);

afterAll(async () => {
  for (const args of [
    ['destroy', domain],
    ['undefine', '--snapshots-metadata', domain],
  ]) {
    try {
      execFileSync('virsh', ['-c', systemUri, ...args], { stdio: 'ignore' });
    } catch {}
  }
  stopPassts([agent]);
  if (dir) await rm(dir, { recursive: true, force: true });
}, LIMIT);

describe.sequential('day-2 operations on one agent', () => {
  it(
    'status shows CPU %, memory and disk use of the running agent',
    async () => {
      const out = JSON.parse((await fleetOk(dir, ['--json', 'status', '--interval', '1'])).stdout);
      const row = out.agents[0];
      expect(row).toMatchObject({ name: agent, state: 'running' });
      expect(row.cpuPercent).toBeGreaterThanOrEqual(0);
      expect(row.cpuPercent).toBeLessThanOrEqual(100);
      // 256 MiB in the YAML; the host-side figures are the QEMU process's and the overlay's.
      expect(row.memoryKiB).toBe(256 * 1024);
      expect(row.rssKiB).toBeGreaterThan(10 * 1024);
      expect(row.diskUsedBytes).toBeGreaterThan(0);
      expect(row.diskCapacityBytes).toBeGreaterThanOrEqual(row.diskUsedBytes);
      const human = (await fleetOk(dir, ['status', '--interval', '1'])).stdout;
      expect(human).toMatch(/CPU\s+MEM \(GUEST\/HOST\)\s+DISK/);
      expect(human).toMatch(/\d+\.\d%\s+256M\/\d/);
    },
    LIMIT,
  );

  it(
    'snapshot, then a file written in the guest is gone after revert; ssh keeps the same pin',
    async () => {
      const key = await pinned();
      expect((await fleetOk(dir, ['snapshot', agent, 'clean'])).stdout).toContain(
        `${agent}: snapshot clean (running)`,
      );
      const list = JSON.parse((await fleetOk(dir, ['--json', 'snapshots', agent])).stdout);
      expect(list.snapshots.map((s: { label: string }) => s.label)).toEqual(['clean']);
      // On the disk (the FAT /boot of the test image), not in the initramfs root.
      expect((await inGuest('echo written > /boot/marker && sync && cat /boot/marker')).out).toBe(
        'written\n',
      );
      await fleetOk(dir, ['revert', agent, 'clean']);
      const after = await inGuest('ls /boot/marker 2>&1; true');
      expect(after.code).toBe(0);
      expect(after.out).toContain('No such file');
      expect(await pinned()).toBe(key);

      const dup = await fleet(dir, ['snapshot', agent, 'clean']);
      expect(dup.code).toBe(2);
      expect(dup.stderr).toContain("already has a snapshot 'clean'");
      const unknown = await fleet(dir, ['revert', agent, 'nosuch']);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain("has no snapshot 'nosuch' (snapshots: clean");
      await fleetOk(dir, ['snapshot', agent, 'clean', '--delete']);
      expect(JSON.parse((await fleetOk(dir, ['--json', 'snapshots', agent])).stdout).snapshots).toEqual([]);
    },
    LIMIT,
  );

  it(
    'fleet cp copies a file and a directory both ways over the pinned session',
    async () => {
      const local = await mkdtemp(join(tmpdir(), 'day2b-cp-'));
      try {
        await writeFile(join(local, 'up.txt'), 'from the host\n');
        await fleetOk(dir, ['cp', join(local, 'up.txt'), `${agent}:/tmp/`]);
        expect((await inGuest('cat /tmp/up.txt')).out).toBe('from the host\n');
        await inGuest('mkdir -p /tmp/tree/sub && echo deep > /tmp/tree/sub/f && echo top > /tmp/tree/g');
        const noR = await fleet(dir, ['cp', `${agent}:/tmp/tree`, local]);
        expect(noR.code).toBe(2);
        expect(noR.stderr).toContain('is a directory: use -r');
        await fleetOk(dir, ['cp', '-r', `${agent}:/tmp/tree`, join(local, 'back')]);
        expect(await readFile(join(local, 'back', 'sub', 'f'), 'utf8')).toBe('deep\n');
        expect(await readFile(join(local, 'back', 'g'), 'utf8')).toBe('top\n');
        await fleetOk(dir, ['cp', '-r', join(local, 'back'), `${agent}:/tmp/again`]);
        expect((await inGuest('cat /tmp/again/sub/f')).out).toBe('deep\n');
        await fleetOk(dir, ['cp', `${agent}:/tmp/up.txt`, join(local, 'down.txt')]);
        expect(await readFile(join(local, 'down.txt'), 'utf8')).toBe('from the host\n');
      } finally {
        await rm(local, { recursive: true, force: true });
      }
    },
    LIMIT,
  );

  it(
    'reset: the disk goes back to the base image, the identity stays (same pinned key, ssh works)',
    async () => {
      const key = await pinned();
      await inGuest('echo written > /boot/marker && sync');
      const noYes = await fleet(dir, ['reset', agent]);
      expect(noYes.code).toBe(2);
      expect(noYes.stderr).toContain('run again with --yes');
      expect((await inGuest('cat /boot/marker')).out).toBe('written\n');

      const r = await fleetOk(dir, ['reset', agent, '--yes']);
      expect(r.stderr).toContain(`${agent}: disk removed; host key`);
      expect(await pinned()).toBe(key);
      const after = await inGuest('ls /boot/marker 2>&1; cat /var/log/agentfleet-hostkey.log');
      expect(after.code).toBe(0);
      expect(after.out).toContain('No such file');
      // The new disk took the kept key through the fw_cfg hand-over, and provisioning ran again.
      expect(after.out).toContain(`installed /var/ssh/ssh_host_ed25519_key from fw_cfg (${key})`);
      const st = JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8')).agents[agent];
      expect(st.provision).toMatchObject({ done: 'ready', hostKey: key });
    },
    LIMIT,
  );

  it(
    'status --watch reports the stop caused by `down`, and Ctrl-C ends it with exit 0',
    async () => {
      const watch = spawn(
        process.execPath,
        [fleetMain, '--dir', dir, '--json', 'status', '--watch', '--interval', '5'],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      type Line = { event: { domain: string; kind: string } | null; agents: { state: string }[] };
      const lines: Line[] = [];
      // One reader of the stream: a listener per wait would each append the same chunk to the one buffer, and a
      // line that arrives in two chunks would then be parsed doubled.
      let buf = '';
      let arrived = () => {};
      watch.stdout.on('data', (d) => {
        buf += d;
        const parts = buf.split('\n');
        buf = parts.pop() ?? '';
        for (const p of parts) if (p.trim()) lines.push(JSON.parse(p));
        arrived();
      });
      let ended: { code: number | null } | undefined;
      const exited = new Promise<number | null>((resolve) =>
        watch.on('exit', (code) => {
          ended = { code };
          resolve(code);
        }),
      );
      const waitFor = async (pred: (l: Line) => boolean): Promise<Line> => {
        for (;;) {
          const hit = lines.find(pred);
          if (hit) return hit;
          if (ended) throw new Error(`watch exited ${ended.code} before the line came`);
          await Promise.race([new Promise<void>((r) => (arrived = r)), exited]);
        }
      };
      let stderr = '';
      watch.stderr.on('data', (d) => {
        stderr += d;
      });
      try {
        await waitFor((l) => l.event === null && l.agents[0]?.state === 'running');
        await fleetOk(dir, ['down', agent]);
        const stopped = await waitFor((l) => l.event?.kind === 'stopped');
        expect(stopped.event?.domain).toBe(domain);
        expect(stopped.agents[0]?.state).toBe('shutoff');
      } finally {
        watch.kill('SIGINT');
      }
      expect(await exited, stderr).toBe(0);
    },
    LIMIT,
  );
});
