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

const toplevelAttr = (agent: string) => `nixosConfigurations.agent-${agent}.config.system.build.toplevel`;

/**
 * Builds every named agent's `config.system.build.toplevel` on this host in ONE `nix build`
 * (one evaluation of the flake and its inputs, one store, every shared path built once). A local
 * flake is built from exactly the files an upload would send (what git would commit, never the
 * state dir), staged in a private temp dir, with `--no-update-lock-file` when the repository has a
 * flake.lock; without one, nix resolves the inputs and fleet keeps the lock it wrote, as with
 * guest builds. When the joint build fails, each agent is built alone to tell which one broke:
 * a failure stops that agent only.
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
  const build = async (
    ref: string,
    frozen: boolean,
    which: readonly string[],
    onLine: (l: string) => void,
  ) => {
    const args = [
      ...NIX_FEATURES,
      'build',
      '--no-link',
      '--json',
      ...(frozen ? ['--no-update-lock-file'] : []),
      ...which.map((a) => `${ref}#${toplevelAttr(a)}`),
    ];
    onLine(`$ nix ${args.join(' ')}`);
    return nix(args, onLine);
  };
  /**
   * Each agent's toplevel derivation, from one evaluation: `nix build --json` lists its results in
   * no particular order (seen: agent a handed agent b's system), so they are paired by drvPath.
   */
  const derivations = async (ref: string, frozen: boolean): Promise<Map<string, string> | undefined> => {
    const apply = `cs: { ${agents.map((a) => `"${a}" = cs."agent-${a}".config.system.build.toplevel.drvPath;`).join(' ')} }`;
    const args = [
      ...NIX_FEATURES,
      'eval',
      '--json',
      ...(frozen ? ['--no-update-lock-file'] : []),
      `${ref}#nixosConfigurations`,
      '--apply',
      apply,
    ];
    toAll(`$ nix ${args.join(' ')}`);
    const r = await nix(args, toAll);
    if (r.code !== 0) return undefined;
    return new Map(Object.entries(JSON.parse(r.stdout) as Record<string, string>));
  };
  const buildAll = async (ref: string, frozen: boolean) => {
    const out = new Map<string, BuiltToplevel>();
    const drvs = agents.length > 1 ? await derivations(ref, frozen) : undefined;
    const joint = await build(ref, frozen, agents, toAll);
    if (joint.code === 0) {
      const built = outPaths(joint.stdout);
      for (const a of agents) {
        const path = agents.length === 1 ? built[0]?.out : built.find((b) => b.drvPath === drvs?.get(a))?.out;
        out.set(a, path ? { ok: true, path } : { ok: false, message: 'nix build printed no output path' });
      }
      return out;
    }
    if (agents.length === 1) {
      out.set(agents[0] as string, { ok: false, message: `nix build on the host exited with ${joint.code}` });
      return out;
    }
    toAll(`nix build of ${agents.length} agents failed (${joint.code}); building each alone to find which`);
    for (const a of agents) {
      const log = logs.get(a);
      const alone = await build(ref, frozen, [a], (l) => log?.write(`${l}\n`));
      const path = alone.code === 0 ? outPaths(alone.stdout)[0]?.out : undefined;
      out.set(
        a,
        path ? { ok: true, path } : { ok: false, message: `nix build on the host exited with ${alone.code}` },
      );
    }
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

/** `nix build --json`: one entry per built derivation, in no promised order. */
function outPaths(stdout: string): { drvPath?: string; out?: string }[] {
  const parsed = JSON.parse(stdout) as { drvPath?: string; outputs?: { out?: string } }[];
  return parsed.map((p) => ({
    ...(p.drvPath !== undefined && { drvPath: p.drvPath }),
    ...(p.outputs?.out !== undefined && { out: p.outputs.out }),
  }));
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
