// Runs a benchmark that needs the repository's vitest setup (TypeScript, @agentfleet/* aliases, the test harness):
// `npx vitest run -c bench/vitest.config.ts bench/<name>.run.ts`. Benchmarks, not part of `npm test`.
import root from '../vitest.config.js';

// The root config's test tiers (projects) would replace this include.
const { projects: _tiers, ...rootTest } = root.test ?? {};

export default {
  ...root,
  test: { ...rootTest, include: ['bench/*.run.ts'], testTimeout: 3_600_000, hookTimeout: 600_000 },
};
