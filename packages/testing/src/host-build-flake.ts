// A flake that stands in for a fleet's NixOS configurations in the `build: host` tests: no nixpkgs
// (there is none here), so each agent's "toplevel" is a small derivation made with `derivation`
// and the host's /bin/sh, with a `bin/switch-to-configuration` that leaves a marker in the guest,
// plus a second path it references (so a closure is more than one path).
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where the fake switch-to-configuration leaves its marker inside the guest. */
export const SWITCH_MARKER = '/var/lib/agentfleet-switched';

/**
 * Nix settings for builds on this host, through the environment (never in what ships):
 * - `build-users-group =`: Debian's nix-bin as root defaults to a nixbld group CI machines lack;
 * - `sandbox = false`: the sandbox shows the builder no /bin/sh, and the test derivations, having
 *   no nixpkgs, build with the host's /bin/sh and coreutils;
 * - `substituters =`: offline, so nix does not try cache.nixos.org before every build.
 */
export const HOST_BUILD_NIX_CONFIG = 'build-users-group =\nsandbox = false\nsubstituters =';

/**
 * flake.nix with `nixosConfigurations.agent-<name>.config.system.build.toplevel` for each agent.
 * `fail` names agents whose build fails; `salt` changes every output (a new configuration).
 */
export function hostBuildFlake(
  agents: readonly string[],
  opts: { fail?: string[]; salt?: string } = {},
): string {
  const fail = new Set(opts.fail ?? []);
  const entries = agents
    .map(
      (a) => `    "agent-${a}".config.system.build.toplevel = mk "${a}" ${fail.has(a) ? 'true' : 'false'};`,
    )
    .join('\n');
  return `{
  outputs = { self }: let
    salt = "${opts.salt ?? ''}";
    mk = name: broken: let
      etc = derivation {
        name = "etc-\${name}"; system = "x86_64-linux"; builder = "/bin/sh"; PATH = "/bin:/usr/bin";
        args = [ "-c" "echo configured \${name} \${salt} > $out" ];
      };
    in derivation {
      name = "toplevel-\${name}"; system = "x86_64-linux"; builder = "/bin/sh"; PATH = "/bin:/usr/bin";
      inherit etc;
      args = [ "-c" (if broken then "echo 'error: \${name} does not build' >&2; exit 1" else ''
        mkdir -p $out/bin
        printf '#!/bin/sh\\nmkdir -p ${join(SWITCH_MARKER, '..')}\\necho "switched \${name} $1 $(cat \${etc})" >> ${SWITCH_MARKER}\\n' > $out/bin/switch-to-configuration
        chmod 755 $out/bin/switch-to-configuration
      '') ];
    };
  in {
    nixosConfigurations = {
${entries}
    };
  };
}
`;
}

/**
 * A directory on PATH with a `nix` that appends its arguments to `<dir>/calls` and runs the real
 * one: how tests count the `nix build` invocations (evaluations) fleet makes.
 */
export async function countingNix(): Promise<{ dir: string; evaluations: () => Promise<string[]> }> {
  const dir = join(tmpdir(), `nix-count-${process.pid}-${Date.now()}`);
  await mkdir(dir, { recursive: true });
  const calls = join(dir, 'calls');
  await writeFile(calls, '');
  await writeFile(join(dir, 'nix'), `#!/bin/sh\necho "$*" >> ${calls}\nexec /usr/bin/nix "$@"\n`);
  await chmod(join(dir, 'nix'), 0o755);
  return {
    dir,
    // What evaluates the fleet's configurations (`nix copy` and the checks do not).
    evaluations: async () =>
      (await readFile(calls, 'utf8'))
        .split('\n')
        .filter((l) => / (eval|build) /.test(` ${l} `) && l.includes('#nixosConfigurations')),
  };
}
