// Running `fleet` under faults (a SIGKILL, a daemon restart at a chosen point) on a fleet of its own and looking for
// what a run left behind: shared by the fault e2e test and the randomized kill benchmark (bench/kill-up.run.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fleet, fleetSpawn } from './fleet-cli.js';
import { ensureTestImage } from './index.js';
import { passtPidsOf } from './passt.js';
import { type PrivateLibvirtd, startPrivateLibvirtd } from './private-libvirtd.js';
import { makeSecretsFleet, writeAgent, writeFleetConfig } from './provision-fixture.js';

export type FleetChild = ReturnType<typeof fleetSpawn>;

export interface FaultRun {
  /** The exit code, or 'hung' when the run outlived its bound (it is then killed). */
  code: number | null | 'hung';
  signal: NodeJS.Signals | null;
  /** stdout and stderr as they arrived (progress lines and, with --log-level debug, the log). */
  output: string;
  /** Whether the marker showed (and `at` ran). */
  hit: boolean;
}

/**
 * Runs `fleet --log-level debug <args>` in `dir` and calls `at` once its output matches `marker` (a phase's progress
 * line or log message), or at once for 'spawn'; resolves once the run ended and `at` finished.
 */
export async function runFleetUntil(
  dir: string,
  args: string[],
  marker: RegExp | 'spawn',
  at: (child: FleetChild) => unknown,
  hungMs: number,
): Promise<FaultRun> {
  const child = fleetSpawn(dir, ['--log-level', 'debug', ...args]);
  let output = '';
  let hit = false;
  let acting: Promise<unknown> = Promise.resolve();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const act = () => {
    hit = true;
    acting = Promise.resolve(at(child));
  };
  if (marker === 'spawn') act();
  const collect = (d: Buffer) => {
    output += d;
    if (!hit && marker !== 'spawn' && marker.test(output)) act();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  let timer: NodeJS.Timeout | undefined;
  const end = await Promise.race([
    exited,
    new Promise<'hung'>((r) => {
      timer = setTimeout(() => r('hung'), hungMs);
    }),
  ]);
  clearTimeout(timer);
  if (end === 'hung') child.kill('SIGKILL');
  // 'exit' may come before the last of the output was read (a run's final error line): what it said ends when its
  // streams close. Bounded: a child of the run that outlived it would hold them open (strayProcesses finds those).
  let grace: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise((r) => (grace = setTimeout(r, 30_000)))]);
  clearTimeout(grace);
  await acting;
  return end === 'hung'
    ? { code: 'hung', signal: null, output, hit }
    : { code: end.code, signal: end.signal, output, hit };
}

const processes = () =>
  spawnSync('ps', ['-e', '-o', 'pid=,args='], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);

/**
 * Processes (pid and command line) that name `dir`, but a guest's QEMU and passt, which outlive fleet by design:
 * after a fleet run ended, whatever else is there was left behind by it (cp, qemu-img, ssh, nix).
 */
export function strayProcesses(dir: string): string[] {
  return processes()
    .filter((l) => l.includes(dir) && !/qemu-system|^\s*\d+\s+passt\s|^\s*\d+\s+ps\s/.test(l))
    .map((l) => l.trim());
}

/** Files under `root` that no finished run may leave: atomic writers' temps, partial disks, lock reap tokens. */
export function leftoverFiles(root: string): string[] {
  return readdirSync(root, { withFileTypes: true, recursive: true })
    .map((e) => join(e.parentPath, e.name))
    .filter((p) => !p.includes('/.git/') && /\.tmp$|\.partial$|\.reap$/.test(p));
}

/** Polls `check` (up to `ms`) until it returns an empty list; returns its last answer. */
export async function settles<T>(check: () => T[], ms = 10_000): Promise<T[]> {
  const deadline = Date.now() + ms;
  let left = check();
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    left = check();
  }
  return left;
}

/** Open file descriptors of a process (its /proc/<pid>/fd entries), or undefined when it is gone. */
export function openFds(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/**
 * A fleet to run faults on: agents with a secret each, on a libvirtd of its own (restarting it touches no other
 * test's daemon), fleet's default isolated network (passt) and copied disks (the disk step then runs a child, cp,
 * that a killed fleet must not leave behind). SSH ports from `sshBase` (20), SPICE ports from `sshBase + 50` (20).
 */
export interface FaultFleet {
  dir: string;
  stateDir: string;
  daemon: PrivateLibvirtd;
  agents: readonly string[];
  /** The secret an agent gets, and the text it decrypts to in the guest. */
  secretOf(agent: string): string;
  plaintextOf(agent: string): string;
  /** `agents.<agent>` of state.json (throws when the file is not whole JSON). */
  agentState(agent: string): { provision?: { done?: string }; hostKey?: string; phase?: string } | undefined;
  /**
   * What is wrong after a run that should have brought every agent up: not provisioned to `ready`; state.json's
   * pin, secrets/hosts/NAME.pub and known_hosts disagreeing; the secret not decrypted in the guest; a lock, a temp
   * file, a partial disk or a reap token left; a process that names the fleet dir left (a guest's QEMU and passt
   * aside); not exactly one passt per agent. Empty when all is well.
   */
  problems(): Promise<string[]>;
  /** Destroys and purges the agents through fleet, then stops the daemon and every passt, and removes the files. */
  remove(): Promise<void>;
}

export async function startFaultFleet(opts: {
  agents: readonly string[];
  sshBase: number;
  /** Prefix of the daemon's temp dir (under the system temp dir). */
  tmpPrefix: string;
}): Promise<FaultFleet> {
  const { agents, sshBase } = opts;
  const secretOf = (a: string) => `${a}-token`;
  const plaintextOf = (a: string) => `secret of ${a}\n`;
  const image = await ensureTestImage();
  const daemonDir = await mkdtemp(join(tmpdir(), opts.tmpPrefix));
  let daemon: PrivateLibvirtd | undefined;
  let dir: string | undefined;
  const remove = async () => {
    // Through fleet first: stopping passt also removes its firewall table.
    if (dir && daemon) await fleet(dir, ['destroy', ...agents, '--purge', '--yes']);
    daemon?.stop(agents.map((a) => `agent-${a}`));
    for (const pid of passtPidsOf(agents)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone between the listing and the kill: what the clean-up wanted.
      }
    }
    if (dir) await rm(dir, { recursive: true, force: true });
    await rm(daemonDir, { recursive: true, force: true });
  };
  try {
    daemon = startPrivateLibvirtd({ dir: daemonDir });
    await daemon.ready();
    const repo = await makeSecretsFleet(
      Object.fromEntries(agents.map((a) => [a, [secretOf(a)]])),
      Object.fromEntries(agents.map((a) => [secretOf(a), plaintextOf(a)])),
      image.privateKeyPath,
    );
    dir = repo.dir;
    const stateDir = join(dir, 'state');
    await writeFleetConfig(dir, image, stateDir, sshBase, {
      libvirtUri: daemon.uri,
      diskMode: 'copy',
      sshPorts: `{ start: ${sshBase}, end: ${sshBase + 19} }`,
      spicePorts: `{ start: ${sshBase + 50}, end: ${sshBase + 69} }`,
    });
    for (const a of agents) await writeAgent(dir, a, [secretOf(a)]);
    const fleetDir = dir;
    const agentState = (a: string) =>
      JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')).agents[a];
    const problems = async (): Promise<string[]> => {
      const out: string[] = [];
      for (const a of agents) {
        const s = agentState(a);
        if (s?.provision?.done !== 'ready') out.push(`${a}: provision.done is ${s?.provision?.done}`);
        const pinFile = join(fleetDir, 'secrets', 'hosts', `${a}.pub`);
        const pin = existsSync(pinFile) ? readFileSync(pinFile, 'utf8').trim() : '(none)';
        if (s?.hostKey !== pin) out.push(`${a}: state pins ${s?.hostKey}, secrets/hosts has ${pin}`);
        if (!readFileSync(join(stateDir, 'known_hosts'), 'utf8').includes(pin))
          out.push(`${a}: known_hosts lacks the pin`);
        const secret = await fleet(fleetDir, ['ssh', a, '--', `cat /run/agenix/${secretOf(a)}`]);
        if (secret.stdout !== plaintextOf(a))
          out.push(`${a}: secret not decrypted (${secret.stderr.trim()})`);
      }
      if (existsSync(join(stateDir, 'fleet.lock'))) out.push('fleet.lock left');
      out.push(...leftoverFiles(fleetDir).map((f) => `left file ${f}`));
      out.push(...(await settles(() => strayProcesses(fleetDir))).map((p) => `left process ${p}`));
      const passts = passtPidsOf(agents).length;
      if (passts !== agents.length) out.push(`${passts} passt processes for ${agents.length} agents`);
      return out;
    };
    return { dir, stateDir, daemon, agents, secretOf, plaintextOf, agentState, problems, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}
