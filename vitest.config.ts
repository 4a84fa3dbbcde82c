import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const pkgs = ['core', 'libvirt', 'ssh', 'secrets', 'engine', 'cli'];

export default defineConfig({
  resolve: {
    // Tests run against sources; the CLI subprocess tests run the built dist (tsc -b runs first).
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
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
