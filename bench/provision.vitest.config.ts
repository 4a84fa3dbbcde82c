// Runs bench/*.run.ts (name one: bench/provision.run.ts, bench/rebuild.run.ts) with the repository's vitest setup (TypeScript, @agentfleet/*
// aliases, the test harness); a benchmark, not part of `npm test`.
import root from '../vitest.config.js';

// The root config's test tiers (projects) would replace this include.
const { projects: _tiers, ...rootTest } = root.test ?? {};

export default {
  ...root,
  test: { ...rootTest, include: ['bench/*.run.ts'], testTimeout: 3_600_000, hookTimeout: 600_000 },
};
