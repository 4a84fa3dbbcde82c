import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { flakeFiles, localFlakeDir } from './flake.js';
import { FLAKE_LOCK, keepLock, withFleetLock } from './flake-lock.js';
import type { InFlightAgents } from './in-flight.js';
import { NIX_FEATURES, type NixRunner, runNix } from './nix-command.js';

/** Where one agent's share of a host build's output goes (its provisioning log). */
export interface BuildLog {
  write(chunk: string): void;
}

export interface HostBuildSource {
  /** fleet.yaml's flake reference. */
  flake: string;
  /** The fleet repository, against which a local flake reference is resolved. */
  fleetDir: string;
  /** Never part of the built flake, even inside the repository. */
  stateDir: string;
  nix?: NixRunner;
}

export type BuiltToplevel = { ok: true; path: string } | { ok: false; message: string };

/**
 * Builds every named agent's `config.system.build.toplevel` on this host from ONE evaluation: one
 * `nix eval` yields every agent's derivation and output path (so results pair with agents by name,
 * whatever order a builder reports them in), and one `nix-store --realise` builds them all (one
 * store, every shared path built once, no second evaluation). A local flake is evaluated from
 * exactly the files an upload would send (what git would commit, never the state dir), staged in a
 * private temp dir, with `--no-update-lock-file` when the repository has a flake.lock; without one,
 * nix resolves the inputs and fleet keeps the lock it wrote, as with guest builds. When the joint
 * evaluation or build fails, each agent is taken alone to tell which one broke: a failure stops
 * that agent only.
 */
export async function buildToplevels(
  src: HostBuildSource,
  agents: readonly string[],
  logs: ReadonlyMap<string, BuildLog>,
): Promise<Map<string, BuiltToplevel>> {
  const nix = src.nix ?? runNix;
  const toAll = (line: string) => {
    for (const log of logs.values()) log.write(`${line}\n`);
  };
  const logTo = (agent: string) => (line: string) => logs.get(agent)?.write(`${line}\n`);
  type Targets = Record<string, { drv: string; out: string }>;
  const evaluate = async (
    ref: string,
    frozen: boolean,
    which: readonly string[],
    onLine: (l: string) => void,
  ): Promise<Targets | number> => {
    const attrs = which.map(
      (a) =>
        `"${a}" = let t = cs."agent-${a}".config.system.build.toplevel; in { drv = t.drvPath; out = t.outPath; };`,
    );
    const args = [
      ...NIX_FEATURES,
      'eval',
      '--json',
      ...(frozen ? ['--no-update-lock-file'] : []),
      `${ref}#nixosConfigurations`,
      '--apply',
      `cs: { ${attrs.join(' ')} }`,
    ];
    onLine(`$ nix ${args.join(' ')}`);
    const r = await nix(args, onLine);
    return r.code === 0 ? (JSON.parse(r.stdout) as Targets) : r.code;
  };
  const realise = async (drvs: readonly string[], onLine: (l: string) => void) => {
    const args = ['--realise', ...drvs];
    onLine(`$ nix-store ${args.join(' ')}`);
    return (await nix(args, onLine, undefined, 'nix-store')).code;
  };
  const failed = (step: string, code: number): BuiltToplevel => ({
    ok: false,
    message: `${step} on the host exited with ${code}`,
  });
  /** One agent alone: its own evaluation and build, its output in its own log. */
  const alone = async (ref: string, frozen: boolean, agent: string): Promise<BuiltToplevel> => {
    const t = await evaluate(ref, frozen, [agent], logTo(agent));
    if (typeof t === 'number') return failed('nix eval', t);
    const target = t[agent];
    if (!target) return { ok: false, message: 'nix eval printed no derivation' };
    const code = await realise([target.drv], logTo(agent));
    return code === 0 ? { ok: true, path: target.out } : failed('the build', code);
  };
  const buildAll = async (ref: string, frozen: boolean) => {
    const out = new Map<string, BuiltToplevel>();
    const targets = await evaluate(ref, frozen, agents, toAll);
    if (typeof targets !== 'number') {
      const drvs = agents.flatMap((a) => (targets[a] ? [targets[a].drv] : []));
      const code = await realise(drvs, toAll);
      if (code === 0) {
        for (const a of agents) {
          const t = targets[a];
          out.set(
            a,
            t ? { ok: true, path: t.out } : { ok: false, message: 'nix eval printed no derivation' },
          );
        }
        return out;
      }
      if (agents.length === 1) return out.set(agents[0] as string, failed('the build', code));
    } else if (agents.length === 1) {
      return out.set(agents[0] as string, failed('nix eval', targets));
    }
    toAll(`the joint build of ${agents.length} agents failed; taking each alone to find which`);
    for (const a of agents) out.set(a, await alone(ref, frozen, a));
    return out;
  };

  const local = localFlakeDir(src.flake, src.fleetDir);
  // A remote flake is pinned by its own committed lock.
  if (local === undefined) return buildAll(src.flake, false);
  return withFleetLock(local, async (locked) => {
    const staging = await stageFlake(local, [src.stateDir]);
    try {
      const built = await buildAll(`path:${staging}`, locked);
      if (!locked) {
        const written = await readFile(join(staging, FLAKE_LOCK), 'utf8').catch(() => undefined);
        // A flake without inputs needs no lock, and nix writes none.
        if (written !== undefined) await keepLock(local, written, { write: (c) => toAll(c.trimEnd()) });
      }
      return built;
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  });
}

/** The flake as an upload would send it, in a private temp dir (nix copies a `path:` flake whole). */
async function stageFlake(root: string, skipDirs: readonly string[]): Promise<string> {
  const files = await flakeFiles(root, skipDirs);
  const lock = join(root, FLAKE_LOCK);
  if (
    !files.includes(FLAKE_LOCK) &&
    (await readFile(lock).then(
      () => true,
      () => false,
    ))
  )
    files.push(FLAKE_LOCK);
  const staging = await mkdtemp(join(tmpdir(), 'agentfleet-flake-'));
  try {
    for (const f of files) {
      await mkdir(dirname(join(staging, f)), { recursive: true });
      await copyFile(join(root, f), join(staging, f));
    }
    return staging;
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

interface Waiter {
  log: BuildLog;
  resolve: (r: BuiltToplevel) => void;
}

/**
 * Gathers the toplevel requests of agents provisioned in the same run (`fleet up`: phase 1, then
 * phase 2 after each rekey) into shared `nix build` rounds. With `inFlight`, a round starts once
 * every agent in flight has asked (or left): one evaluation per phase for the whole fleet, as
 * colmena and deploy-rs do. Without it (a single agent, or callers that ask all at once), a round
 * starts `gatherMs` after the first request. Requests made while a round runs wait for the next,
 * so each build sees the files (rekeyed secrets) as they were when its agent asked.
 */
export class HostBuilder {
  private pending = new Map<string, Waiter[]>();
  private running = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly src: HostBuildSource,
    private readonly opts: { gatherMs?: number; inFlight?: InFlightAgents } = {},
  ) {
    opts.inFlight?.onLeave(() => this.schedule());
  }

  toplevel(agent: string, log: BuildLog): Promise<BuiltToplevel> {
    return new Promise((resolve) => {
      const waiters = this.pending.get(agent) ?? [];
      waiters.push({ log, resolve });
      this.pending.set(agent, waiters);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running || this.pending.size === 0) return;
    const inFlight = this.opts.inFlight;
    if (inFlight !== undefined) {
      if ([...inFlight.agents].every((a) => this.pending.has(a))) void this.round();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.round();
    }, this.opts.gatherMs ?? 1000);
  }

  private async round(): Promise<void> {
    this.running = true;
    const batch = this.pending;
    this.pending = new Map();
    const agents = [...batch.keys()];
    const logs = new Map(agents.map((a) => [a, fanOut((batch.get(a) ?? []).map((w) => w.log))]));
    let results: Map<string, BuiltToplevel>;
    try {
      results = await buildToplevels(this.src, agents, logs);
    } catch (err) {
      results = new Map(agents.map((a) => [a, { ok: false, message: (err as Error).message }]));
    }
    for (const [agent, waiters] of batch) {
      const r = results.get(agent) ?? { ok: false, message: 'not built' };
      for (const w of waiters) w.resolve(r);
    }
    this.running = false;
    this.schedule();
  }
}

const fanOut = (logs: BuildLog[]): BuildLog => ({
  write: (chunk) => {
    for (const l of logs) l.write(chunk);
  },
});
