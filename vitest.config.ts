import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const pkgs = ['core', 'libvirt', 'ssh', 'secrets', 'engine', 'cli'];

export default defineConfig({
  resolve: {
    // Tests run against sources; the CLI subprocess tests run the built dist (tsc -b runs first).
    alias: Object.fromEntries(
      pkgs.map((p) => [
        `@agentfleet/${p}`,
        fileURLToPath(new URL(`./packages/${p}/src/index.ts`, import.meta.url)),
      ]),
    ),
  },
  test: {
    // Native addon + child processes: forks isolate crashes and thread-local libvirt state.
    pool: 'forks',
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
