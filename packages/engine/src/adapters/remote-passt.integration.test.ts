// The remote passt adapter's scripts run for real (real passt, nft, sh) in a network namespace standing in for the
// remote libvirt host: HostCommands is `ip netns exec <ns> sh -c`, what the host's sshd does with an exec request.
// The SSH transport itself, and the guest's view through such a passt, are the multihost e2e test's. Needs root.
import { execFile, execFileSync } from 'node:child_process';
import { lstatSync, readFileSync, readlinkSync, rmdirSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { firewallTableName, PASST_USER } from '@agentfleet/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentPasstSocketOn, remoteRunRoot } from '../paths.js';
import { confinedSocketOf, ensurePasstUser, fleetKeyOf } from './passt-firewall.js';
import { type HostCommands, RemotePasstNetworks, remotePasstSshPorts } from './remote-passt.js';

const id = Math.floor(Math.random() * 36 ** 4).toString(36);
const NS = `rm-rp-${id}`;
const URI = 'qemu+ssh://root@host.invalid/system';
const fleetId = `rmtest${id}`;
const port = 44600 + Math.floor(Math.random() * 100);
const socketOf = (agent: string) => agentPasstSocketOn('/unused', fleetId, URI, agent);
const sh = promisify(execFile);
const host: HostCommands = {
  run: async (_uri, command) => (await sh('ip', ['netns', 'exec', NS, 'sh', '-c', command])).stdout,
};
const inNs = (...args: string[]) => execFileSync('ip', ['netns', 'exec', NS, ...args], { encoding: 'utf8' });
const tables = () => inNs('nft', 'list', 'tables');
const pidOf = (bind: string) => Number(readFileSync(bind.replace(/\.sock$/, '.pid'), 'utf8'));
const uidOf = (pid: number) => /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
const cmdlineOf = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
};
const forwardAnswers = (p: number) =>
  inNs('python3', '-c', `import socket;socket.create_connection(("127.0.0.1",${p}),3);print("ok")`).trim();

beforeAll(async () => {
  execFileSync('ip', ['netns', 'add', NS]);
  // passt takes its template interface from the default route: a veth pair inside the namespace, whose far end
  // answers no ARP, gives it one along which nothing leaves.
  for (const cmd of [
    'ip link set lo up',
    'ip link add rmw type veth peer name rmx',
    'ip addr add 10.215.0.5/30 dev rmw',
    'ip link set rmw up',
    'ip link set rmx up',
    'ip route add default via 10.215.0.6 dev rmw',
  ])
    inNs(...cmd.split(' '));
  await ensurePasstUser();
}, 30_000);

afterAll(async () => {
  const passts = new RemotePasstNetworks({ host, firewall: 'on' });
  for (const agent of ['a', 'b']) await passts.stop(socketOf(agent), URI).catch(() => undefined);
  execFileSync('ip', ['netns', 'del', NS]);
  rmSync(remoteRunRoot(fleetId), { recursive: true, force: true });
  // Its parent too, unless another fleet has a run dir there (rmdir refuses then).
  try {
    rmdirSync('/run/agentfleet');
  } catch {}
});

describe('RemotePasstNetworks (real passt and nft, in a namespace standing in for the host)', () => {
  it("unconfined: starts the agent's passt in the fleet's 0700 run dir there, finds it again by its pid file, stops it", async () => {
    const passts = new RemotePasstNetworks({ host, firewall: 'off' });
    const socket = socketOf('a');
    expect(socket).toBe(`/run/agentfleet/${fleetId}/run/agent-a/passt.sock`);
    await passts.ensure({ agent: 'a', uri: URI, socketPath: socket, sshPort: port });
    expect(lstatSync(socket).isSocket()).toBe(true);
    for (const d of [`/run/agentfleet/${fleetId}`, `/run/agentfleet/${fleetId}/run/agent-a`])
      expect(lstatSync(d).mode & 0o777).toBe(0o700);
    const pid = pidOf(socket);
    expect(uidOf(pid)).toBe('0');
    expect(forwardAnswers(port)).toBe('ok');
    // A later run (another process) finds it: no second passt, the forward is the agent's own.
    const later = new RemotePasstNetworks({ host, firewall: 'off' });
    await later.ensure({ agent: 'a', uri: URI, socketPath: socket, sshPort: port });
    expect(pidOf(socket)).toBe(pid);
    expect(await later.isRunning(socket, URI)).toBe(true);
    expect(await remotePasstSshPorts(host, URI, [socket, socketOf('b')])).toEqual(new Map([[socket, port]]));
    await later.stop(socket, URI);
    expect(await later.isRunning(socket, URI)).toBe(false);
    expect(() => lstatSync(socket)).toThrow();
    // Gone, or a zombie its reaper (this container's init) has not collected: no command line either way.
    expect(cmdlineOf(pid)).toBe('');
  });

  it('confined (networkFirewall on): the fleet table in that namespace, passt as agentfleet-passt behind a link; the last stop drops the table', async () => {
    const passts = new RemotePasstNetworks({ host, firewall: 'on' });
    const socket = socketOf('b');
    const table = firewallTableName(fleetKeyOf(socket));
    await passts.ensure({ agent: 'b', uri: URI, socketPath: socket, sshPort: port + 1 });
    expect(tables()).toContain(table);
    // The machine's own namespace got no table of this fleet: the host's nft is the host's.
    expect(execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' })).not.toContain(table);
    expect(readlinkSync(socket)).toBe(confinedSocketOf(socket));
    const pid = pidOf(confinedSocketOf(socket));
    expect(uidOf(pid)).toBe(execFileSync('id', ['-u', PASST_USER], { encoding: 'utf8' }).trim());
    expect(forwardAnswers(port + 1)).toBe('ok');
    // A passt killed without a stop (the host's OOM killer, say): not running, and the next ensure starts anew.
    process.kill(pid, 'SIGKILL');
    while (await passts.isRunning(socket, URI)) await new Promise((r) => setTimeout(r, 20));
    await passts.ensure({ agent: 'b', uri: URI, socketPath: socket, sshPort: port + 1 });
    expect(pidOf(confinedSocketOf(socket))).not.toBe(pid);
    await passts.stop(socket, URI);
    expect(tables()).not.toContain(table);
    expect(await passts.isRunning(socket, URI)).toBe(false);
  });

  it('a passt that cannot start is reported with what it said, and leaves neither process nor table', async () => {
    const passts = new RemotePasstNetworks({ host, firewall: 'on' });
    const socket = socketOf('a');
    const holder = new RemotePasstNetworks({ host, firewall: 'off' });
    await holder.ensure({ agent: 'b', uri: URI, socketPath: socketOf('b'), sshPort: port + 2 });
    try {
      await expect(
        passts.ensure({ agent: 'a', uri: URI, socketPath: socket, sshPort: port + 2 }),
      ).rejects.toThrow(
        /passt for agent a on host\.invalid: passt exited before binding .*Failed to bind any port/,
      );
      expect(await passts.isRunning(socket, URI)).toBe(false);
      expect(tables()).not.toContain(firewallTableName(fleetKeyOf(socket)));
    } finally {
      await holder.stop(socketOf('b'), URI);
    }
  });
});
