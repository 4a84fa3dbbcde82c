// Faults under a running command, through the built CLI on real libvirt + QEMU (TCG) with the tiny image: `fleet up`
// SIGKILLed as it enters each of its phases, and libvirtd restarted under `fleet down` and `fleet up`. One agent
// VM, on a libvirtd of this file's own (the shared qemu:///system daemon is never restarted), with fleet's default
// isolated network (passt) and a copied disk, so every phase has something to leave behind.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTestImage } from '@agentfleet/testing';
import {
  type FleetChild,
  leftoverFiles,
  openFds,
  runFleetUntil,
  settles,
  strayProcesses,
} from '@agentfleet/testing/fault-runs';
import { fleet, fleetOk } from '@agentfleet/testing/fleet-cli';
import { passtPidsOf } from '@agentfleet/testing/passt';
import { type PrivateLibvirtd, startPrivateLibvirtd } from '@agentfleet/testing/private-libvirtd';
import { makeSecretsFleet, writeAgent, writeFleetConfig } from '@agentfleet/testing/provision-fixture';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const LIMIT = 400_000;
/** A bound on a run that should end: past it the run counts as hung (nothing here waits that long when it works). */
const HUNG_MS = 240_000;
const agent = `kl${randomBytes(3).toString('hex')}`;
const domain = `agent-${agent}`;
const SECRET = `${agent}-token`;
const PLAINTEXT = `secret of ${agent}\n`;
// This file's port block is 41200-41299 (the randomized bench/kill-up.mjs takes 41230-41249 and 41280-41299).
const sshBase = 41200 + Math.floor(Math.random() * 10);

let daemon: PrivateLibvirtd | undefined;
let daemonDir: string;
let dir: string;
let stateDir: string;

const virsh = (...args: string[]) =>
  execFileSync('virsh', ['-c', (daemon as PrivateLibvirtd).uri, ...args], { encoding: 'utf8' }).trim();
const agentState = () => JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')).agents[agent];

const passts = () => passtPidsOf([agent]);
const strays = () => strayProcesses(dir);
/** When (pino's clock, ms) a run's debug log said the agent's `step` was done. */
const doneAt = (output: string, step: string) =>
  Number(new RegExp(`"time":(\\d+),[^\\n]*"msg":"${agent}: ${step} done"`).exec(output)?.[1] ?? Number.NaN);
type Restarted = Awaited<ReturnType<PrivateLibvirtd['restart']>>;

const runUntil = (args: string[], marker: RegExp, at: (child: FleetChild) => unknown) =>
  runFleetUntil(dir, args, marker, at, HUNG_MS);

beforeAll(async () => {
  const image = await ensureTestImage();
  daemonDir = await mkdtemp(join(tmpdir(), 'kill-libvirtd-'));
  daemon = startPrivateLibvirtd({ dir: daemonDir });
  await daemon.ready();
  const repo = await makeSecretsFleet({ [agent]: [SECRET] }, { [SECRET]: PLAINTEXT }, image.privateKeyPath);
  dir = repo.dir;
  stateDir = join(dir, 'state');
  await writeFleetConfig(dir, image, stateDir, sshBase, {
    libvirtUri: daemon.uri,
    // A copy, not an overlay: the disk step runs a child (cp) that a killed fleet must not leave behind.
    diskMode: 'copy',
    sshPorts: `{ start: ${sshBase}, end: ${sshBase + 19} }`,
    spicePorts: `{ start: ${sshBase + 50}, end: ${sshBase + 69} }`,
  });
  await writeAgent(dir, agent, [SECRET]);
}, LIMIT);

afterAll(async () => {
  // Through fleet first: stopping passt also removes its firewall table.
  if (dir && daemon) await fleet(dir, ['destroy', agent, '--purge', '--yes']);
  daemon?.stop([domain]);
  if (stateDir) for (const pid of passts()) process.kill(pid, 'SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
  if (daemonDir) await rm(daemonDir, { recursive: true, force: true });
}, 60_000);

describe.sequential('faults under a running command', () => {
  it(
    'fleet up SIGKILLed as it enters each phase: every next run goes past the point of the kill, the last one ' +
      'finishes; nothing leaks, no state is half-written, no lock stays stale',
    async () => {
      // In the order a first `up` meets them; each run after a kill must get past the killed phase to the next.
      const phases: [string, RegExp][] = [
        ['allocation', /ledger updated/],
        // The host key made before first boot (up's default for a new agent): pinned and rekeyed here.
        ['host key pre-generation', /host key pre-generated/],
        ['disk copy', /: create-disk\.\.\./],
        ['define', /: define\.\.\./],
        ['start', /: start\.\.\./],
        ['SSH wait', /ssh: waiting for/],
        ['provisioning phase 1', /: phase1 ?\.\.\./],
        ['rekey', /: rekeyed ?\.\.\./],
        ['provisioning phase 2', /: phase2 ?\.\.\./],
      ];
      const history: string[] = [];
      for (const [phase, marker] of phases) {
        const run = await runUntil(['up'], marker, (child) => {
          child.kill('SIGKILL');
        });
        const said = `${history.join('\n')}\n--- run killed at ${phase}\n${run.output}`;
        expect(run.hit, `the run ended before ${phase}:\n${said}`).toBe(true);
        expect(run.signal, said).toBe('SIGKILL');
        expect(run.output, said).not.toMatch(/FAILED|another fleet command is running/);
        history.push(`--- killed at ${phase}`);
        // The killed run's children die with it (cp, qemu-img, ssh); state.json is whole, never half-written.
        expect(await settles(strays), said).toEqual([]);
        if (existsSync(join(stateDir, 'state.json'))) expect(() => agentState()).not.toThrow();
        expect(passts().length, said).toBeLessThanOrEqual(1);
      }
      // The run after the last kill finishes the agent, and takes over the lock the kill left.
      expect(existsSync(join(stateDir, 'fleet.lock'))).toBe(true);
      const last = await fleet(dir, ['up']);
      const said = `${history.join('\n')}\n--- last run\n${last.stdout}${last.stderr}`;
      expect(last.code, said).toBe(0);
      expect(agentState().provision.done, said).toBe('ready');
      expect(virsh('domstate', domain)).toBe('running');
      // Pinned once, consistently: state, the committed pin and known_hosts agree, and SSH with it works.
      const pin = readFileSync(join(dir, 'secrets', 'hosts', `${agent}.pub`), 'utf8').trim();
      expect(agentState().hostKey).toBe(pin);
      expect(readFileSync(join(stateDir, 'known_hosts'), 'utf8')).toContain(pin);
      expect((await fleetOk(dir, ['ssh', agent, '--', `cat /run/agenix/${SECRET}`])).stdout).toBe(PLAINTEXT);
      // Nothing left behind: no lock, no temp file or partial disk, one passt, one listener on the agent's port.
      expect(existsSync(join(stateDir, 'fleet.lock'))).toBe(false);
      expect(leftoverFiles(dir)).toEqual([]);
      expect(await settles(strays)).toEqual([]);
      expect(passts()).toHaveLength(1);
      const port = (await fleetOk(dir, ['status', '--json'])).stdout.match(/"sshPort":\s*(\d+)/)?.[1];
      const listeners = spawnSync('ss', ['-Htln', `sport = :${port}`], { encoding: 'utf8' }).stdout;
      expect(listeners.trim().split('\n'), listeners).toHaveLength(1);
      // A run killed while it holds its libvirt connection, then one with nothing to do: the daemon's and passt's
      // open descriptors settle where they were.
      const fds = () => [openFds(daemon?.libvirtdPid() ?? 0), openFds(passts()[0] ?? 0)];
      const before = fds();
      const held = await runUntil(['up'], /actual state observed/, (child) => {
        child.kill('SIGKILL');
      });
      expect(held.signal, held.output).toBe('SIGKILL');
      const again = await fleetOk(dir, ['up']);
      expect(again.stdout).toContain('Nothing to do');
      // passt 2023-03-09 keeps a forwarded connection's socket until its guest side has closed too (a TCG guest
      // under load takes its time), so `before` may still count the sockets of the `ssh` and `status` above and
      // the count may fall below it: a leak is a count that stays above, and the bound is generous.
      const grown = () => {
        const now = fds();
        return now.some((n, i) => n === undefined || n > (before[i] ?? 0)) ? [{ before, now }] : [];
      };
      expect(
        before.every((n) => n !== undefined && n > 0),
        `${before}`,
      ).toBe(true);
      expect(await settles(grown, 90_000)).toEqual([]);
    },
    LIMIT,
  );

  it(
    'libvirtd restarted under fleet down and under fleet up: both finish on a new connection, never hang; ' +
      'a daemon that stays away fails the run with a clear message and the next run recovers',
    async () => {
      const restartAt = (marker: RegExp, args: string[]) => {
        let restarted: Restarted | undefined;
        return runUntil(args, marker, async () => {
          restarted = await daemon?.restart({ downMs: 1000 });
        }).then((run) => ({ ...run, restarted: restarted as Restarted }));
      };
      // down: the daemon goes away while fleet waits for the guest to power off; the step ends after it is back.
      const down = await restartAt(/: stop\.\.\./, ['down']);
      expect(down.code, down.output).toBe(0);
      expect(doneAt(down.output, 'stop'), down.output).toBeGreaterThan(down.restarted.upAt);
      expect(virsh('domstate', domain)).toBe('shut off');
      expect(await settles(passts)).toEqual([]);
      expect(existsSync(join(stateDir, 'fleet.lock'))).toBe(false);

      // up: the daemon goes away while it starts the domain; the run reconnects and brings the agent up.
      const up = await restartAt(/: start\.\.\./, ['up']);
      expect(up.code, up.output).toBe(0);
      expect(doneAt(up.output, 'start'), up.output).toBeGreaterThan(up.restarted.upAt);
      expect(virsh('domstate', domain)).toBe('running');
      expect(agentState().phase).toBe('ssh-ready');
      expect(passts()).toHaveLength(1);

      // A daemon that is not back within fleet's reconnect window (30 s): a clear failure, no hang, lock released.
      const gone = await runUntil(['down'], /: stop\.\.\./, (child) =>
        daemon?.restart({ until: new Promise((r) => child.on('exit', r)) }),
      );
      expect(gone.code, gone.output).toBe(1);
      expect(gone.output).toMatch(/libvirt connection to .* was lost .* could not be reopened within 30 s/);
      expect(gone.output).not.toMatch(/\n\s+at .*\.js:\d+/); // no raw stack trace
      expect(existsSync(join(stateDir, 'fleet.lock'))).toBe(false);
      const recovered = await fleet(dir, ['down']);
      expect(recovered.code, recovered.stdout + recovered.stderr).toBe(0);
      expect(virsh('domstate', domain)).toBe('shut off');
      expect(await settles(passts)).toEqual([]);
      expect(await settles(strays)).toEqual([]);
    },
    LIMIT,
  );
});
