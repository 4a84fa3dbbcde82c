// networkFirewall for real: the real passt, nft and useradd, in network namespaces this test makes
// (a "host" namespace where the adapter runs, an "outside" one it routes to). What a confined passt
// can reach is asked as its user (setpriv to agentfleet-passt): the guest's view through passt is
// the isolation e2e test's. Needs root (as CI and the e2e tier run).
import { type ChildProcess, execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { firewallTableName, PASST_USER } from '@agentfleet/core';
import { bannerListener } from '@agentfleet/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFINED_SOCKET_DIR, confinedSocketOf, fleetKeyOf } from './passt-firewall.js';

const id = Math.floor(Math.random() * 36 ** 4).toString(36);
const HOST = `net-fw-h-${id}`;
const OUT = `net-fw-o-${id}`;
const third = Math.floor(Math.random() * 250) + 1;
/** TEST-NET-2: neither private nor the host's, so the firewall lets it through. */
const HOST_IP = '198.51.100.1';
const OUT_IP = '198.51.100.2';
const LAN_IP = `10.221.${third}.2`;
const METADATA_IP = '169.254.169.254';
const port = 41100 + Math.floor(Math.random() * 40);
const sshPort = port + 50;
const root = mkdtempSync(join(tmpdir(), 'net-fw-'));
const [fleetA, fleetB] = [join(root, 'a', 'state'), join(root, 'b', 'state')];
const socketOf = (stateDir: string, agent: string) => join(stateDir, 'run', `agent-${agent}`, 'passt.sock');
const children: ChildProcess[] = [];
const adapter = fileURLToPath(new URL('../../dist/adapters/passt.js', import.meta.url));

const run = (cmd: string, args: string[], input?: string) =>
  execFileSync(cmd, args, { encoding: 'utf8', ...(input !== undefined && { input }) });
const inHost = (cmd: string, args: string[]) => run('ip', ['netns', 'exec', HOST, cmd, ...args]);

/** The adapter as fleet runs it, in the host namespace: `ensure` or `stop` of one agent. */
const passt = (op: 'ensure' | 'stop', stateDir: string, agent: string, forward = sshPort) =>
  inHost(process.execPath, [
    '--input-type=module',
    '-e',
    `const { PasstNetworks } = await import(${JSON.stringify(adapter)});
     const p = new PasstNetworks({ confine: true });
     const socketPath = ${JSON.stringify(socketOf(stateDir, agent))};
     ${op === 'ensure' ? `await p.ensure({ agent: ${JSON.stringify(agent)}, uri: 'qemu:///system', socketPath, sshPort: ${forward} });` : 'await p.stop(socketPath);'}`,
  ]);

/** Connects from the host namespace as `user` (root or the confined passt's); what happened. */
function connectAs(user: 'root' | typeof PASST_USER, host: string): string {
  const py = `import socket
c = socket.socket()
c.settimeout(3)
try:
    c.connect((${JSON.stringify(host)}, ${port}))
    print(c.recv(64).decode())
except OSError as e:
    print("refused", e.errno)`;
  // The system's python: one under root's home (pyenv) is not the other user's to run.
  const argv =
    user === 'root'
      ? ['python3', '-c', py]
      : [
          'setpriv',
          `--reuid=${PASST_USER}`,
          `--regid=${PASST_USER}`,
          '--clear-groups',
          '/usr/bin/python3',
          '-c',
          py,
        ];
  return inHost(argv[0] as string, argv.slice(1)).trim();
}

/** The pid of the confined passt of an agent ('' when none runs; zombies of a kill included until reaped). */
function confinedPid(stateDir: string, agent: string): string {
  try {
    return run('pgrep', ['-f', '--', `--socket ${confinedSocketOf(socketOf(stateDir, agent))}`]).trim();
  } catch {
    return '';
  }
}

const tables = () => inHost('nft', ['list', 'tables']);

const listen = (ns: string, host: string, banner: string) =>
  children.push(bannerListener(ns, host, port, banner));

beforeAll(async () => {
  const [vh, vo] = [`net-fw-${id}h`, `net-fw-${id}o`];
  run('ip', ['netns', 'add', HOST]);
  run('ip', ['netns', 'add', OUT]);
  run('ip', ['link', 'add', vh, 'type', 'veth', 'peer', 'name', vo]);
  run('ip', ['link', 'set', vh, 'netns', HOST]);
  run('ip', ['link', 'set', vo, 'netns', OUT]);
  for (const [ns, dev, ip] of [
    [HOST, vh, HOST_IP],
    [OUT, vo, OUT_IP],
  ] as const) {
    run('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    run('ip', ['netns', 'exec', ns, 'ip', 'addr', 'add', `${ip}/30`, 'dev', dev]);
    run('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', dev, 'up']);
  }
  for (const ip of [LAN_IP, METADATA_IP])
    run('ip', ['netns', 'exec', OUT, 'ip', 'addr', 'add', `${ip}/32`, 'dev', 'lo']);
  inHost('ip', ['route', 'add', 'default', 'via', OUT_IP]);
  listen(HOST, '0.0.0.0', 'HOST-SERVICE');
  listen(OUT, '0.0.0.0', 'OUT');
  // Every listener answers root before any check relies on a refusal.
  const deadline = Date.now() + 10_000;
  for (const host of ['127.0.0.1', HOST_IP, OUT_IP, LAN_IP, METADATA_IP])
    while (!/HOST-SERVICE|OUT/.test(connectAs('root', host))) {
      if (Date.now() > deadline) throw new Error(`no test listener answers on ${host}:${port}`);
      await new Promise((r) => setTimeout(r, 100));
    }
}, 60_000);

afterAll(() => {
  for (const stateDir of [fleetA, fleetB])
    for (const agent of ['x', 'y'])
      try {
        passt('stop', stateDir, agent);
      } catch {}
  for (const c of children) c.kill('SIGKILL');
  for (const ns of [HOST, OUT])
    try {
      run('ip', ['netns', 'del', ns]);
    } catch {}
  rmSync(root, { recursive: true, force: true });
});

describe('networkFirewall (real passt, nft, useradd; in test namespaces)', () => {
  it('a confined passt runs as agentfleet-passt, binds in its 0700 directory behind the state-dir path, and forwards SSH', () => {
    passt('ensure', fleetA, 'x');
    const socketPath = socketOf(fleetA, 'x');
    expect(lstatSync(socketPath).isSymbolicLink()).toBe(true);
    expect(readlinkSync(socketPath)).toBe(confinedSocketOf(socketPath));
    const dir = lstatSync(CONFINED_SOCKET_DIR);
    expect(dir.mode & 0o777).toBe(0o700);
    expect(run('id', ['-u', PASST_USER]).trim()).toBe(String(dir.uid));
    const pid = confinedPid(fleetA, 'x');
    expect(run('ps', ['-o', 'user=', '-p', pid]).trim()).toBe(PASST_USER);
    // The forward's client is on 127.0.0.1: a reply to it must not be refused.
    expect(
      inHost('python3', [
        '-c',
        `import socket;socket.create_connection(("127.0.0.1",${sshPort}),3);print("ok")`,
      ]).trim(),
    ).toBe('ok');
  });

  it("refuses that user's new connections to the host's own addresses, RFC 1918 and link-local; the outside world and everyone else are untouched", () => {
    expect(tables()).toContain(firewallTableName(fleetKeyOf(socketOf(fleetA, 'x'))));
    expect(connectAs(PASST_USER, OUT_IP)).toBe('OUT');
    for (const host of ['127.0.0.1', HOST_IP, LAN_IP, METADATA_IP]) {
      expect(connectAs(PASST_USER, host), host).toMatch(/^refused/);
      expect(connectAs('root', host), host).toMatch(/HOST-SERVICE|OUT/);
    }
  });

  it("two fleets keep their own tables: one fleet's last stop removes only its own", () => {
    passt('ensure', fleetB, 'x', sshPort + 1);
    const [tableA, tableB] = [fleetA, fleetB].map((f) => firewallTableName(fleetKeyOf(socketOf(f, 'x'))));
    expect(tables()).toContain(tableA);
    expect(tables()).toContain(tableB);
    passt('stop', fleetA, 'x');
    expect(tables()).not.toContain(tableA);
    expect(tables()).toContain(tableB);
    expect(connectAs(PASST_USER, LAN_IP)).toMatch(/^refused/);
  });

  it('a table a crashed run left (no passt) goes with the next stop; a table or socket link removed by hand comes back with the next ensure', () => {
    passt('stop', fleetB, 'x');
    expect(tables()).not.toContain('agentfleet_');
    // A crash between start and stop: the table without its passt, found by any later stop.
    passt('ensure', fleetB, 'y', sshPort + 2);
    process.kill(Number(confinedPid(fleetB, 'y')), 'SIGKILL');
    while (confinedPid(fleetB, 'y') !== '');
    const tableB = firewallTableName(fleetKeyOf(socketOf(fleetB, 'y')));
    expect(tables()).toContain(tableB);
    passt('stop', fleetB, 'x');
    expect(tables()).not.toContain(tableB);
    passt('ensure', fleetB, 'y', sshPort + 2);
    inHost('nft', ['delete', 'table', 'inet', tableB]);
    // And a run killed between passt's bind and the link in the state dir: the next ensure links it.
    rmSync(socketOf(fleetB, 'y'));
    const pid = confinedPid(fleetB, 'y');
    passt('ensure', fleetB, 'y', sshPort + 2);
    expect(tables()).toContain(tableB);
    expect(confinedPid(fleetB, 'y')).toBe(pid);
    expect(readlinkSync(socketOf(fleetB, 'y'))).toBe(confinedSocketOf(socketOf(fleetB, 'y')));
    passt('stop', fleetB, 'y');
    expect(tables()).not.toContain(tableB);
  });

  it("one run's stops of many idle agents ask nft once, and still remove a table a crashed run left", () => {
    passt('ensure', fleetB, 'y', sshPort + 2);
    process.kill(Number(confinedPid(fleetB, 'y')), 'SIGKILL');
    while (confinedPid(fleetB, 'y') !== '');
    const tableB = firewallTableName(fleetKeyOf(socketOf(fleetB, 'y')));
    expect(tables()).toContain(tableB);
    // The real nft behind a wrapper that counts its runs.
    const bin = mkdtempSync(join(root, 'bin-'));
    const calls = join(bin, 'calls');
    writeFileSync(
      join(bin, 'nft'),
      `#!/bin/sh\necho "$*" >> ${calls}\nexec ${run('sh', ['-c', 'command -v nft']).trim()} "$@"\n`,
      {
        mode: 0o755,
      },
    );
    const sockets = ['p', 'q', 'r', 's', 'y'].map((a) => socketOf(fleetB, a));
    inHost('env', [
      `PATH=${bin}:${process.env.PATH}`,
      process.execPath,
      '--input-type=module',
      '-e',
      `const { PasstNetworks } = await import(${JSON.stringify(adapter)});
       const p = new PasstNetworks({ confine: true });
       await Promise.all(${JSON.stringify(sockets)}.map((s) => p.stop(s)));`,
    ]);
    expect(readFileSync(calls, 'utf8').trim().split('\n')).toEqual([`delete table inet ${tableB}`]);
    expect(tables()).not.toContain(tableB);
  });
});
