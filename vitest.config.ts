import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// `testing` is the private test-support package (fakes, contract suite, harness, oracles).
const pkgs = ['atomic-file', 'core', 'libvirt', 'ssh', 'secrets', 'engine', 'app', 'cli', 'testing'];
const everywhere = (suffix: string) => [`packages/*/src/**/*${suffix}`, `test/**/*${suffix}`];

export default defineConfig({
  resolve: {
    // Tests run against sources; the CLI subprocess tests run the built dist (`npm run build` runs first).
    // `@agentfleet/<pkg>/<module>` (package.json "./*" exports, used so a command loads only the
    // modules it needs) is `packages/<pkg>/src/<module>.ts`.
    alias: pkgs.flatMap((p) => [
      {
        find: new RegExp(`^@agentfleet/${p}$`),
        replacement: fileURLToPath(new URL(`./packages/${p}/src/index.ts`, import.meta.url)),
      },
      {
        find: new RegExp(`^@agentfleet/${p}/(.+)$`),
        replacement: `${fileURLToPath(new URL(`./packages/${p}/src/`, import.meta.url))}$1.ts`,
      },
    ]),
  },
  test: {
    // Native addon + child processes: forks isolate crashes and thread-local libvirt state.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Three tiers, run alone with `vitest run --project <name>` (npm run test:unit, ...):
    // unit needs no daemon, VM or network and runs in seconds; integration uses real tools and
    // daemons (libvirtd, sshd, age, nix-instantiate, the built CLI); e2e boots VMs.
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: everywhere('.test.ts'),
          exclude: [...everywhere('.integration.test.ts'), ...everywhere('.e2e.test.ts')],
        },
      },
      // Per-case bounds for the cases that set none. They bound a hang and measure nothing: real tools and daemons
      // on a loaded 2-core machine take seconds per step, a TCG guest's boot or ACPI power-off minutes; a case that
      // ran into vitest's 30 s unit bound there failed without a bug. No retries: a retried flake is a hidden bug.
      {
        extends: true,
        test: { name: 'integration', include: everywhere('.integration.test.ts'), testTimeout: 120_000 },
      },
      { extends: true, test: { name: 'e2e', include: everywhere('.e2e.test.ts'), testTimeout: 300_000 } },
    ],
  },
});
