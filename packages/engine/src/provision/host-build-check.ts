import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BuildOn } from '@agentfleet/core';
import { HostBuilder, type HostBuildSource } from './host-build.js';
import type { HostBuildDeps } from './host-switch.js';
import type { InFlightAgents } from './in-flight.js';
import { NIX_FEATURES, type NixRunner, runNix } from './nix-command.js';

export interface HostBuildCheckResult {
  ok: boolean;
  /** What was found (nix version and store), or what is missing. */
  detail: string;
  /** What to do about it; empty when ok. */
  remedy: string;
}

/**
 * Whether `build: host` can work here (`fleet doctor`, and the fallback to guest builds): nix is
 * installed, nix-command and flakes can be enabled, and the store takes a new path (a tiny
 * text file added with `nix store add-file`, which needs no build users, sandbox or network).
 */
export async function hostBuildCheck(nix: NixRunner = runNix): Promise<HostBuildCheckResult> {
  const lines: string[] = [];
  const collect = (line: string) => lines.push(line);
  const said = () =>
    lines
      .filter((l) => l.trim() !== '')
      .slice(-3)
      .join('; ');
  const version = await nix(['--version'], collect).catch((err: Error) => err);
  if (version instanceof Error) {
    return {
      ok: false,
      detail: version.message,
      remedy:
        'install Nix (Debian: apt-get install nix-bin; elsewhere: https://nixos.org/download) or use build: guest',
    };
  }
  const name = version.stdout.trim();
  const features = await nix([...NIX_FEATURES, 'eval', '--expr', '1'], collect);
  if (features.code !== 0) {
    return {
      ok: false,
      detail: `${name}: cannot enable nix-command and flakes: ${said()}`,
      remedy: 'use Nix 2.4 or newer, and allow nix-command/flakes (experimental-features in nix.conf)',
    };
  }
  const dir = await mkdtemp(join(tmpdir(), 'agentfleet-nixcheck-'));
  try {
    const probe = join(dir, 'agentfleet-store-probe');
    await writeFile(probe, 'agentfleet store probe\n');
    const add = await nix([...NIX_FEATURES, 'store', 'add-file', probe], collect);
    if (add.code !== 0) {
      return {
        ok: false,
        detail: `${name}: the Nix store does not take new paths: ${said()}`,
        remedy: 'run fleet as a user the nix-daemon trusts or allows (allowed-users), or start nix-daemon',
      };
    }
    return { ok: true, detail: `${name}, store writable (${add.stdout.trim()})`, remedy: '' };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The provisioning dependencies for `build` (fleet.yaml's provision.build or --build-on): with
 * `host` and a host that can build, a HostBuilder shared by every agent of this run; otherwise
 * undefined (nixos-rebuild inside each agent), with a note saying why when `host` was asked for.
 */
export async function hostBuildFor(opts: {
  build: BuildOn;
  source: HostBuildSource;
  sshConfig: () => Promise<string>;
  note: (message: string) => void;
  /** `fleet up`: the agents a build round waits for. */
  inFlight?: InFlightAgents;
  check?: () => Promise<HostBuildCheckResult>;
}): Promise<HostBuildDeps | undefined> {
  if (opts.build === 'guest') return undefined;
  const check = await (opts.check ?? hostBuildCheck)();
  if (!check.ok) {
    opts.note(
      `build: host is not possible on this host (${check.detail}); building inside each agent instead. Remedy: ${check.remedy}`,
    );
    return undefined;
  }
  return {
    builder: new HostBuilder(opts.source, opts.inFlight ? { inFlight: opts.inFlight } : {}),
    sshConfig: opts.sshConfig,
    ...(opts.source.nix && { nix: opts.source.nix }),
  };
}
