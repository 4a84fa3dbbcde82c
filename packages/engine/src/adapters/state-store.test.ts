import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tailFile } from './console-log.js';
import { JsonStateStore } from './state-store.js';

const dir = mkdtempSync(join(tmpdir(), 'fleet-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('JsonStateStore', () => {
  it('round-trips through an atomic write and leaves no temp files', async () => {
    const store = new JsonStateStore(join(dir, 'a', 'state.json'));
    expect(await store.load()).toEqual({ version: 1, agents: {} });
    const state = {
      version: 1 as const,
      agents: { drago: { phase: 'ssh-ready' as const, updatedAt: 'now' } },
    };
    await store.save(state);
    expect(await store.load()).toEqual(state);
    expect(readdirSync(join(dir, 'a'))).toEqual(['state.json']);
  });

  it('a write that cannot land names the file and leaves no temp file', async () => {
    // A directory where state.json should be: the temp file is written, the rename is refused.
    const sub = join(dir, 'blocked');
    mkdirSync(join(sub, 'state.json'), { recursive: true });
    const store = new JsonStateStore(join(sub, 'state.json'));
    const err = await store.save({ version: 1, agents: {} }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/EISDIR/);
    expect((err as Error).message).toContain(join(sub, 'state.json'));
    expect(readdirSync(sub)).toEqual(['state.json']);
  });

  it('names the file and field of a damaged state file', async () => {
    const path = join(dir, 'bad.json');
    writeFileSync(
      path,
      JSON.stringify({ version: 1, agents: { drago: { phase: 'flying', updatedAt: 'x' } } }),
    );
    await expect(new JsonStateStore(path).load()).rejects.toThrow(`${path}: agents.drago.phase:`);
  });
});

describe('tailFile', () => {
  it('returns the last lines without carriage returns; nothing for a missing file', async () => {
    const path = join(dir, 'console.log');
    writeFileSync(path, 'one\r\ntwo\r\nthree\r\n');
    expect(await tailFile(path, 2)).toEqual(['two', 'three']);
    expect(await tailFile(join(dir, 'none.log'), 2)).toEqual([]);
  });
});
