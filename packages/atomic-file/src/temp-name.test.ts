import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { expect, it } from 'vitest';
import { discardTemp, writeTemp } from './index.js';

it("names its temp file after the writer's pid, so a temp a killed run left is known stale", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kill-atomic-'));
  try {
    const pending = writeTemp(join(dir, 'token.age'), 'x', 0o600);
    // The form fleet's start-up clean-up (engine removeStaleTemps) recognises: `.<file>.<pid>.<8 hex>.tmp`.
    expect(basename(pending.temp)).toMatch(
      new RegExp(`^\\.token\\.age\\.${process.pid}\\.[0-9a-f]{8}\\.tmp$`),
    );
    discardTemp(pending);
    expect(existsSync(pending.temp)).toBe(false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
