// Day-2 operations on real libvirt + QEMU (TCG) through the built CLI, sharing two agents: autostart, exec on
// several agents, logs -f, the interactive serial console (driven through a pty), logs --journal on a guest
// without systemd, restart (new boot, same QEMU, same pin), and ssh to a shut-off agent.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureLibvirtd, ensureTestImage, portBlock, systemUri, type TestImage } from '@agentfleet/testing';
import { fleet, fleetOk, fleetSpawn } from '@agentfleet/testing/fleet-cli';
import { removeDomains, writeAgent, writeFleetConfig } from '@agentfleet/testing/provision-fixture';
import { fleetInPty } from '@agentfleet/testing/terminal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Generous: TCG guests on a shared 2-core host have taken minutes to boot under load.
const VM_TIMEOUT = 660_000;
const tag = `da${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 2).toString(36)}`;
const [A, B] = [`${tag}a`, `${tag}b`] as const;
const portBase = portBlock();

let dir: string;
let stateDir: string;
let image: TestImage;

const virsh = (...args: string[]) => execFileSync('virsh', ['-c', systemUri, ...args], { encoding: 'utf8' });
const qemuPid = (name: string) => readFileSync(`/run/libvirt/qemu/agent-${name}.pid`, 'utf8').trim();
/** The command's output lines on `agent`, without fleet exec's prefixes and summary. */
const run = async (agent: string, command: string) =>
  (await fleetOk(dir, ['exec', agent, '--', command])).stdout
    .split('\n')
    .filter((l) => l.startsWith(`${agent} | `))
    .map((l) => l.slice(agent.length + 3))
    .join('\n');
const stateHostKey = (agent: string) =>
  (
    JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')) as {
      agents: Record<string, { hostKey: string }>;
    }
  ).agents[agent]?.hostKey;

/** Runs `fleet console` in a pty, types a command until its output shows, then Ctrl-]; resolves with what it saw. */
const consoleSession = (agent: string) =>
  fleetInPty(
    dir,
    ['console', agent],
    `def pump(until, secs):
    global out
    end = time.time() + secs
    while time.time() < end and until not in out:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                out += os.read(fd, 4096)
            except OSError:
                return
pump(b'detach with Ctrl-]', 90)
for _ in range(5):
    os.write(fd, b'\\recho CONSOLE-$((6*7))\\r')
    pump(b'CONSOLE-42', 12)
    if b'CONSOLE-42' in out: break
os.write(fd, b'\\x1d')
pump(b'detached from', 30)`,
  );

beforeAll(async () => {
  await ensureLibvirtd();
  image = await ensureTestImage();
  dir = mkdtempSync(join(tmpdir(), 'day2a-e2e-'));
  stateDir = join(dir, 'state');
  await writeFleetConfig(dir, image, stateDir, portBase, { portForward: 'hostfwd', flake: undefined });
  // QEMU's own forward (network: open): this suite tests no networking, and on this loaded shared host passt
  // guests that printed READY have gone minutes without an SSH banner (seen in other suites too).
  // A: autostart, tagged; B: tagged too.
  await writeAgent(dir, A, [], 'network: open\nautostart: true\ntags: [grp]\n');
  await writeAgent(dir, B, [], 'network: open\ntags: [grp]\n');
}, VM_TIMEOUT);

afterAll(() => {
  removeDomains([A, B], stateDir);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.sequential('day-2 operations on real VMs', () => {
  it(
    'up sets libvirt autostart for the agent that asks for it, and only for it',
    async () => {
      await fleetOk(dir, ['up', '--no-provision']);
      expect(virsh('dominfo', `agent-${A}`)).toMatch(/Autostart:\s+enable/);
      expect(virsh('dominfo', `agent-${B}`)).toMatch(/Autostart:\s+disable/);
      // Nothing left to do: the flag is observed from libvirt, not re-applied.
      expect((await fleetOk(dir, ['plan'])).stdout).not.toContain('autostart');
    },
    VM_TIMEOUT,
  );

  it('exec on two agents prefixes output per agent, reports both exit codes and exits 1', async () => {
    await run(A, 'touch /tmp/day2-ok');
    const r = await fleet(dir, ['exec', '--tag', 'grp', '--', 'echo out-$((40+2)); test -f /tmp/day2-ok']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^${A} \\| out-42$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^${B} \\| out-42$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^${A}\\s+exit 0$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^${B}\\s+exit 1$`, 'm'));
  }, 180_000);

  it('logs -f shows a line the guest prints after it started', async () => {
    const follow = fleetSpawn(dir, ['logs', A, '-f', '-n', '1']);
    let out = '';
    follow.stdout.on('data', (d) => {
      out += d;
    });
    try {
      // The follow starts at the end the tail was printed from: once the tail shows, a line printed now is new.
      const tailBy = Date.now() + 60_000;
      while (out === '' && follow.exitCode === null && Date.now() < tailBy)
        await new Promise((r) => setTimeout(r, 100));
      expect(out, 'logs -f printed the last line').not.toBe('');
      await run(A, 'echo FOLLOW-$((7*6)) > /dev/console');
      const deadline = Date.now() + 60_000;
      while (!out.includes('FOLLOW-42') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 200));
      expect(out).toContain('FOLLOW-42');
    } finally {
      follow.kill('SIGINT');
    }
  }, 180_000);

  it("console attaches to the guest's shell through a pty, runs a typed command, and Ctrl-] detaches", async () => {
    const s = await consoleSession(A);
    expect(s.out).toContain('CONSOLE-42');
    expect(s.out).toContain('detached from');
    expect(s.code).toBe(0);
    // The typed command's output also reached the log file `fleet logs` reads.
    expect((await fleetOk(dir, ['logs', A, '-n', '200'])).stdout).toContain('CONSOLE-42');
  }, 300_000);

  it('logs --journal says plainly that a guest without systemd has no journal', async () => {
    const r = await fleet(dir, ['logs', A, '--journal']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`agent ${A} has no journalctl`);
  }, 180_000);

  it(
    'restart boots the guest again in the same QEMU process, with the same pinned host key',
    async () => {
      const pin = stateHostKey(A);
      const pid = qemuPid(A);
      const bootBefore = (await run(A, 'cat /proc/sys/kernel/random/boot_id')).trim();
      const uptimeBefore = await run(A, 'cut -d. -f1 /proc/uptime');
      const started = Date.now();
      const r = await fleetOk(dir, ['restart', A]);
      expect(r.stdout).toContain(`${A}: restarted`);
      const bootAfter = (await run(A, 'cat /proc/sys/kernel/random/boot_id')).trim();
      expect(bootAfter).not.toBe(bootBefore);
      // Without a reboot the uptime would have grown by the whole wait; a young guest may be up longer
      // after its second boot than before, so the old uptime alone is no bound.
      const elapsed = Math.ceil((Date.now() - started) / 1000);
      expect(Number(await run(A, 'cut -d. -f1 /proc/uptime'))).toBeLessThan(Number(uptimeBefore) + elapsed);
      expect(qemuPid(A)).toBe(pid);
      expect(stateHostKey(A)).toBe(pin);
    },
    VM_TIMEOUT,
  );

  it(
    'ssh to a shut-off agent names its state and the remedy',
    async () => {
      await fleetOk(dir, ['down', B]);
      const r = await fleet(dir, ['ssh', B, '--', 'true']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`agent ${B} is shut off; run \`fleet up ${B}\``);
      expect(r.stderr).not.toContain('Connection refused');
    },
    VM_TIMEOUT,
  );
});
