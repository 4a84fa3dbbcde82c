// Faults under a running command, through the built CLI on real libvirt + QEMU (TCG) with the tiny image: `fleet up`
// SIGKILLed as it enters each of its phases, libvirtd restarted under `fleet down` and `fleet up`, and a process or
// a foreign domain on agents' recorded ports (a second agent, never booted, is blocked alone). One agent
// VM, on a libvirtd of this file's own (the shared qemu:///system daemon is never restarted), with fleet's default
// isolated network (passt) and a copied disk, so every phase has something to leave behind.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { portBlock } from '@agentfleet/testing';
import {
  type FaultFleet,
  type FleetChild,
  openFds,
  runFleetUntil,
  settles,
  startFaultFleet,
  strayProcesses,
} from '@agentfleet/testing/fault-runs';
import { fleet, fleetOk } from '@agentfleet/testing/fleet-cli';
import { passtPidsOf } from '@agentfleet/testing/passt';
import type { PrivateLibvirtd } from '@agentfleet/testing/private-libvirtd';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const LIMIT = 400_000;
/** A bound on a run that should end: past it the run counts as hung (nothing here waits that long when it works). */
const HUNG_MS = 240_000;
const agent = `kl${randomBytes(3).toString('hex')}`;
const domain = `agent-${agent}`;
// A port block of its own, reserved machine-wide and below the ephemeral range (no outgoing connection takes one).
const sshBase = portBlock();

let faults: FaultFleet | undefined;
let daemon: PrivateLibvirtd;
let dir: string;
let stateDir: string;

const virsh = (...args: string[]) =>
  execFileSync('virsh', ['-c', daemon.uri, ...args], { encoding: 'utf8' }).trim();
const agentState = () => faults?.agentState(agent);

const passts = () => passtPidsOf([agent]);
const strays = () => strayProcesses(dir);
/** When (pino's clock, ms) a run's debug log said the agent's `step` was done. */
const doneAt = (output: string, step: string) =>
  Number(new RegExp(`"time":(\\d+),[^\\n]*"msg":"${agent}: ${step} done"`).exec(output)?.[1] ?? Number.NaN);
type Restarted = Awaited<ReturnType<PrivateLibvirtd['restart']>>;

const runUntil = (args: string[], marker: RegExp, at: (child: FleetChild) => unknown) =>
  runFleetUntil(dir, args, marker, at, HUNG_MS);

beforeAll(async () => {
  faults = await startFaultFleet({ agents: [agent], sshBase, tmpPrefix: 'kill-libvirtd-' });
  ({ daemon, dir, stateDir } = faults);
}, LIMIT);

afterAll(() => faults?.remove(), 60_000);

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
      expect(virsh('domstate', domain)).toBe('running');
      // Provisioned, pinned once and consistently (state, the committed pin and known_hosts agree, and SSH with it
      // decrypts the secret), nothing left behind (lock, temp file, partial disk, process), one passt...
      expect(await faults?.problems(), said).toEqual([]);
      // ...and one listener on the agent's port.
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
      expect(agentState()?.phase).toBe('ssh-ready');
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

  it(
    "a process on one agent's recorded port fails that agent alone, naming the process and the remedy, while up " +
      "brings the others up; a foreign domain on an agent's port blocks neither down nor destroy, only its start",
    async () => {
      // A second agent, allocated (its ports recorded) but never booted: this test needs no second VM.
      const other = `${agent}q`;
      await writeFile(
        join(dir, 'agents', `${other}.yaml`),
        `memory: 256MiB\nvcpus: 1\nshareCores: true\ngit: { email: ${other}@example.org }\n`,
      );
      const foreign = `kl-foreign-${randomBytes(3).toString('hex')}`;
      const squatter = createServer();
      try {
        const ledger = JSON.parse((await fleetOk(dir, ['--json', 'allocate'])).stdout).ledger.hosts[
          daemon.uri
        ];
        const [port, ownPort] = [ledger[other].sshPort, ledger[agent].sshPort];
        await new Promise<void>((resolve, reject) => {
          squatter.once('error', reject);
          squatter.listen(port, '127.0.0.1', resolve);
        });

        // `up` of the whole fleet: the agent comes up, the other fails alone (exit 1), each with its line.
        const up = await fleet(dir, ['up']);
        const said = up.stdout + up.stderr;
        expect(up.code, said).toBe(1);
        expect(up.stdout, said).toMatch(new RegExp(`^${agent}: ok \\(start, await-ssh`, 'm'));
        expect(up.stdout, said).toContain(
          `${other}: FAILED\n  SSH port ${port} of agent ${other} is in use by process ${process.pid} (`,
        );
        expect(up.stdout, said).toContain(
          `(listening on the host): stop it, or give the agent another port (ports.ssh in agents/${other}.yaml)`,
        );
        expect(virsh('domstate', domain)).toBe('running');
        // Nothing was made for the blocked agent: no domain, disk or host key.
        expect(virsh('list', '--all', '--name')).not.toContain(`agent-${other}`);
        expect(existsSync(join(stateDir, `agent-${other}.qcow2`))).toBe(false);
        expect(existsSync(join(stateDir, 'hostkeys', `agent-${other}_ed25519`))).toBe(false);

        // A domain that is not this fleet's (hand-made, never started) claims the running agent's SSH port.
        const xml = join(dir, `${foreign}.xml`);
        await writeFile(
          xml,
          `<domain type='qemu'><name>${foreign}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>` +
            `<os><type arch='x86_64'>hvm</type></os>` +
            `<devices><graphics type='spice' port='${ownPort}' autoport='no'/></devices></domain>`,
        );
        virsh('define', xml);
        for (const args of [['down'], ['destroy', other, '--yes']]) {
          const r = await fleet(dir, args);
          expect(r.code, `fleet ${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(0);
        }
        expect(virsh('domstate', domain)).toBe('shut off');
        // Starting it again is where the foreign domain is in the way: the plan says so.
        const plan = await fleet(dir, ['plan', agent]);
        expect(plan.code, plan.stdout + plan.stderr).toBe(1);
        expect(plan.stdout).toContain(
          `SSH port ${ownPort} of agent ${agent} is in use by domain ${foreign}: stop it`,
        );
      } finally {
        squatter.close();
        spawnSync('virsh', ['-c', daemon.uri, 'undefine', foreign], { stdio: 'ignore' });
        await fleet(dir, ['destroy', other, '--purge', '--yes']);
        await rm(join(dir, 'agents', `${other}.yaml`), { force: true });
      }
    },
    LIMIT,
  );
});
