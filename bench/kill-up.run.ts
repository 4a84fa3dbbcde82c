// Randomized SIGKILLs of `fleet up`, the long variant of test/e2e/faults.e2e.test.ts (issue #12's stress round,
// repeatable): each round purges the agents, starts `fleet up` and SIGKILLs it, in odd rounds after a random delay
// within a whole bring-up's duration (most land in the long SSH wait, as in the first stress round), in even rounds
// 0-2 s after a phase drawn at random showed (so every phase gets its share), then runs `fleet up` once more, which
// must recover: exit 0,
// every agent provisioned, state, committed pin and known_hosts agreeing, no lock, no temp file or partial disk, no
// process left by the killed run, one passt per agent, and libvirtd's open descriptors back where they were.
// Agents on a libvirtd of this run's own, fleet's default isolated network, copied disks.
// Usage: npm run build && KILLS=30 AGENTS=1 npx vitest run -c bench/vitest.config.ts bench/kill-up.run.ts
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTestImage } from '@agentfleet/testing';
import {
  leftoverFiles,
  openFds,
  passtsUnder,
  runFleetUntil,
  settles,
  strayProcesses,
} from '@agentfleet/testing/fault-runs';
import { fleet } from '@agentfleet/testing/fleet-cli';
import { type PrivateLibvirtd, startPrivateLibvirtd } from '@agentfleet/testing/private-libvirtd';
import { makeSecretsFleet, writeAgent, writeFleetConfig } from '@agentfleet/testing/provision-fixture';
import { expect, it } from 'vitest';

const KILLS = Number(process.env.KILLS ?? 20);
const AGENTS = Number(process.env.AGENTS ?? 1);
const HUNG_MS = 300_000;
// Ports 41230-41249 (SSH) and 41280-41299 (SPICE): the e2e test's block, the part it leaves free.
const SSH_BASE = 41230;

/** Where in `up` the output says a run was, in the order a first `up` goes (the last one seen wins). */
const PHASES: [string, RegExp][] = [
  ['start-up', /^/],
  ['allocation', /"msg":"runtime open"/],
  ['plan', /Plan \(up\)/],
  ['disk copy', /: create-disk\.\.\./],
  ['define', /: define\.\.\./],
  ['start', /: start\.\.\./],
  ['SSH wait', /: await-ssh\.\.\./],
  ['phase 1', /: phase1 \.\.\./],
  ['host key', /: hostkey \.\.\./],
  ['rekey', /: rekeyed \.\.\./],
  ['phase 2', /: phase2 \.\.\./],
  ['verify', /: ready \.\.\./],
];

function phaseAt(output: string): string {
  let best = 'start-up';
  let at = -1;
  for (const [name, re] of PHASES) {
    const all = [...output.matchAll(new RegExp(re.source, 'g'))];
    const last = all.at(-1)?.index ?? -1;
    if (last >= at && all.length > 0) {
      at = last;
      best = name;
    }
  }
  return best;
}

interface Round {
  round: number;
  /** The phase whose start the kill waited for (even rounds). */
  after?: string;
  delayMs: number;
  phase: string;
  exited: string;
  recovered: boolean;
  problems: string[];
  recoveryMs: number;
}

it('fleet up killed at random points: the next run recovers every time', async () => {
  const image = await ensureTestImage();
  const daemonDir = await mkdtemp(join(tmpdir(), 'kill-bench-libvirtd-'));
  let daemon: PrivateLibvirtd | undefined;
  const agents = Array.from({ length: AGENTS }, () => `klb${randomBytes(2).toString('hex')}`);
  const secretOf = (a: string) => `${a}-token`;
  const repo = await makeSecretsFleet(
    Object.fromEntries(agents.map((a) => [a, [secretOf(a)]])),
    Object.fromEntries(agents.map((a) => [secretOf(a), `secret of ${a}\n`])),
    image.privateKeyPath,
  );
  const dir = repo.dir;
  const stateDir = join(dir, 'state');
  const runDir = join(stateDir, 'run');
  const rounds: Round[] = [];
  try {
    daemon = startPrivateLibvirtd({ dir: daemonDir });
    await daemon.ready();
    await writeFleetConfig(dir, image, stateDir, SSH_BASE, {
      libvirtUri: daemon.uri,
      diskMode: 'copy',
      sshPorts: `{ start: ${SSH_BASE}, end: ${SSH_BASE + 19} }`,
      spicePorts: `{ start: ${SSH_BASE + 50}, end: ${SSH_BASE + 69} }`,
    });
    for (const a of agents) await writeAgent(dir, a, [secretOf(a)]);

    const state = () => JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')).agents;
    /** What is wrong after a run that should have brought every agent up. */
    const problems = async (): Promise<string[]> => {
      const out: string[] = [];
      for (const a of agents) {
        const s = state()[a];
        if (s?.provision?.done !== 'ready') out.push(`${a}: provision.done is ${s?.provision?.done}`);
        const pinFile = join(dir, 'secrets', 'hosts', `${a}.pub`);
        const pin = existsSync(pinFile) ? readFileSync(pinFile, 'utf8').trim() : '(none)';
        if (s?.hostKey !== pin) out.push(`${a}: state pins ${s?.hostKey}, secrets/hosts has ${pin}`);
        if (!readFileSync(join(stateDir, 'known_hosts'), 'utf8').includes(pin))
          out.push(`${a}: known_hosts lacks the pin`);
        const secret = await fleet(dir, ['ssh', a, '--', `cat /run/agenix/${secretOf(a)}`]);
        if (secret.stdout !== `secret of ${a}\n`)
          out.push(`${a}: secret not decrypted (${secret.stderr.trim()})`);
      }
      if (existsSync(join(stateDir, 'fleet.lock'))) out.push('fleet.lock left');
      out.push(...leftoverFiles(dir).map((f) => `left file ${f}`));
      out.push(...(await settles(() => strayProcesses(dir))).map((p) => `left process ${p}`));
      const passts = passtsUnder(runDir).length;
      if (passts !== agents.length) out.push(`${passts} passt processes for ${agents.length} agents`);
      return out;
    };

    // A whole bring-up from nothing, timed: the span the random kills are drawn from.
    const t0 = performance.now();
    const first = await fleet(dir, ['up']);
    const fullMs = performance.now() - t0;
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(await problems()).toEqual([]);
    const fdsBefore = openFds(daemon.libvirtdPid() as number);

    for (let round = 1; round <= KILLS; round++) {
      const purge = await fleet(dir, ['destroy', ...agents, '--purge', '--yes']);
      expect(purge.code, purge.stdout + purge.stderr).toBe(0);
      const target =
        round % 2 === 0 ? PHASES[1 + Math.floor(Math.random() * (PHASES.length - 1))] : undefined;
      const delayMs = Math.round(Math.random() * (target ? 2000 : fullMs));
      let timer: NodeJS.Timeout | undefined;
      const killed = await runFleetUntil(
        dir,
        ['up'],
        target?.[1] ?? 'spawn',
        (child) =>
          new Promise<void>((resolve) => {
            timer = setTimeout(() => {
              child.kill('SIGKILL');
              resolve();
            }, delayMs);
            child.on('exit', () => {
              clearTimeout(timer);
              resolve();
            });
          }),
        HUNG_MS,
      );
      const phase = phaseAt(killed.output);
      const exited = killed.signal ?? String(killed.code);
      const r0 = performance.now();
      const next = await fleet(dir, ['up']);
      const recoveryMs = Math.round(performance.now() - r0);
      const found = next.code === 0 ? await problems() : [`exit ${next.code}: ${next.stdout}${next.stderr}`];
      rounds.push({
        round,
        ...(target && { after: target[0] }),
        delayMs,
        phase,
        exited,
        recovered: found.length === 0,
        problems: found,
        recoveryMs,
      });
      const when = target ? `${delayMs} ms after ${target[0]} showed` : `after ${delayMs} ms`;
      process.stderr.write(
        `round ${round}/${KILLS}: killed ${when}, in ${phase} (${exited}); ` +
          `${found.length === 0 ? 'recovered' : `NOT recovered: ${found.join('; ')}`} in ${recoveryMs} ms\n`,
      );
    }
    const fdsAfter = openFds(daemon.libvirtdPid() as number);
    const byPhase = new Map<string, { kills: number; recovered: number }>();
    for (const r of rounds.filter((x) => x.exited === 'SIGKILL')) {
      const p = byPhase.get(r.phase) ?? { kills: 0, recovered: 0 };
      p.kills++;
      if (r.recovered) p.recovered++;
      byPhase.set(r.phase, p);
    }
    const summary = {
      agents: AGENTS,
      rounds: rounds.length,
      killed: rounds.filter((r) => r.exited === 'SIGKILL').length,
      recovered: rounds.filter((r) => r.recovered).length,
      fullBringUpMs: Math.round(fullMs),
      libvirtdFds: { before: fdsBefore, after: fdsAfter },
      load: loadavg().map((l) => l.toFixed(1)),
      byPhase: Object.fromEntries([...byPhase]),
      failures: rounds.filter((r) => !r.recovered),
    };
    process.stderr.write(`${JSON.stringify(summary, null, 2)}\n`);
    if (process.env.KILL_RESULT) await writeFile(process.env.KILL_RESULT, JSON.stringify(summary, null, 2));
    expect(summary.failures).toEqual([]);
  } finally {
    daemon?.stop(agents.map((a) => `agent-${a}`));
    for (const pid of passtsUnder(runDir)) process.kill(pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
    await rm(daemonDir, { recursive: true, force: true });
  }
});
