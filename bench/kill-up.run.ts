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
import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { openFds, runFleetUntil, startFaultFleet } from '@agentfleet/testing/fault-runs';
import { fleet } from '@agentfleet/testing/fleet-cli';
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
  ['host key pre-generation', /host key pre-generated/],
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
  /** The last lines of a killed run that failed before the kill came. */
  ownEnd?: string[];
  delayMs: number;
  phase: string;
  exited: string;
  recovered: boolean;
  problems: string[];
  recoveryMs: number;
}

it('fleet up killed at random points: the next run recovers every time', async () => {
  const agents = Array.from({ length: AGENTS }, () => `klb${randomBytes(2).toString('hex')}`);
  const fleetRun = await startFaultFleet({ agents, sshBase: SSH_BASE, tmpPrefix: 'kill-bench-libvirtd-' });
  const { dir, stateDir, daemon, problems } = fleetRun;
  const rounds: Round[] = [];
  try {
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
      // `--purge` removes every file of the agent (a half-copied disk a kill left included).
      const kept = readdirSync(stateDir, { recursive: true, encoding: 'utf8' }).filter((file) =>
        agents.some((a) => file.includes(a)),
      );
      expect(kept, `left after destroy --purge in ${stateDir}`).toEqual([]);
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
      // A run that ended by itself before the kill: what it said (exit 0 is a finished `up`; anything else a failure).
      const ownEnd =
        killed.signal === null && killed.code !== 0 ? killed.output.trim().split('\n').slice(-8) : undefined;
      rounds.push({
        round,
        ...(ownEnd && { ownEnd }),
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
      failedBeforeKill: rounds.filter((r) => r.ownEnd),
    };
    process.stderr.write(`${JSON.stringify(summary, null, 2)}\n`);
    if (process.env.KILL_RESULT) await writeFile(process.env.KILL_RESULT, JSON.stringify(summary, null, 2));
    expect(summary.failures).toEqual([]);
  } finally {
    await fleetRun.remove();
  }
});
