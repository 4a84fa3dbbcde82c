import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLock, FleetLockedError } from './lock.js';

const dir = mkdtempSync(join(tmpdir(), 'fleet-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('acquireLock', () => {
  it('refuses a second holder, naming the first one; released lock can be taken again', async () => {
    const path = join(dir, 'state', 'fleet.lock');
    const release = await acquireLock(path, 'fleet up');
    const err = await acquireLock(path, 'fleet down').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FleetLockedError);
    expect((err as Error).message).toContain(`pid ${process.pid} (\`fleet up\``);
    await release();
    const again = await acquireLock(path, 'fleet down');
    expect(JSON.parse(readFileSync(path, 'utf8')).command).toBe('fleet down');
    await again();
  });

  it('takes over the lock of a holder that died (e.g. SIGKILL)', async () => {
    const path = join(dir, 'stale.lock');
    const child = spawn(process.execPath, ['-e', '']);
    const pid = child.pid ?? 0;
    await new Promise((r) => child.on('exit', r));
    writeFileSync(path, JSON.stringify({ pid, command: 'fleet up', startedAt: 'then' }));
    const release = await acquireLock(path, 'fleet up');
    expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(process.pid);
    await release();
  });
});

// Real processes racing for a stale lock, through the built module (the same code the CLI runs: `npx tsc -b` first).
describe('acquireLock under a race for a stale lock', () => {
  const built = fileURLToPath(new URL('../../dist/adapters/lock.js', import.meta.url));
  // Each contender: take the lock, log "in", hold it 150 ms, log "out", release; exit 3 when refused.
  const contender = `
    const { appendFileSync } = require('node:fs');
    import(${JSON.stringify(built)}).then(async ({ acquireLock, FleetLockedError }) => {
      const [path, log, go] = process.argv.slice(1);
      while (Date.now() < Number(go)) {}
      let release;
      try { release = await acquireLock(path, 'fleet up'); }
      catch (err) { if (err instanceof FleetLockedError) process.exit(3); throw err; }
      appendFileSync(log, 'in ' + process.pid + '\\n');
      await new Promise((r) => setTimeout(r, 150));
      appendFileSync(log, 'out ' + process.pid + '\\n');
      await release();
    });`;
  const runContender = (path: string, log: string, go: number) =>
    new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ['-e', contender, path, log, String(go)], { stdio: 'inherit' });
      child.on('exit', (code) => resolve(code));
    });

  it('lets exactly one of two simultaneous takers in, 20 times over', async () => {
    const deadPid = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['-e', '']);
      child.on('exit', () => resolve(child.pid ?? 0));
    });
    for (let round = 0; round < 20; round++) {
      const path = join(dir, `race-${round}.lock`);
      const log = join(dir, `race-${round}.log`);
      writeFileSync(log, '');
      writeFileSync(
        path,
        JSON.stringify({ pid: deadPid, pidStart: 1, command: 'fleet up', startedAt: 'then' }),
      );
      // Both start spinning at once and leave the spin together, 300 ms after spawning (node's start-up).
      const go = Date.now() + 300;
      const codes = await Promise.all([runContender(path, log, go), runContender(path, log, go)]);
      const lines = readFileSync(log, 'utf8').trim().split('\n').filter(Boolean);
      // Never both inside: every "in" is followed by its own "out" before anyone else's "in".
      for (let i = 0; i < lines.length; i += 2) {
        expect(lines[i]).toMatch(/^in /);
        expect(lines[i + 1]).toBe(lines[i]?.replace('in', 'out'));
      }
      // Someone got in (the stale lock was taken over), and whoever did not was refused, not crashed.
      expect(lines.length).toBeGreaterThanOrEqual(2);
      for (const code of codes) expect([0, 3]).toContain(code);
      expect(existsSync(path)).toBe(false);
    }
    // 40 node start-ups: seconds each on a loaded machine; a bound on a hang, it measures nothing.
  }, 300_000);

  it('keeps a lock whose pid is alive but was reused by another process (start time differs) as stale', async () => {
    const path = join(dir, 'reused.lock');
    // Our own pid with a start time that is not ours: the recorded holder is gone, the pid now someone else.
    writeFileSync(
      path,
      JSON.stringify({ pid: process.pid, pidStart: 1, command: 'fleet up', startedAt: 'then' }),
    );
    const release = await acquireLock(path, 'fleet down');
    expect(JSON.parse(readFileSync(path, 'utf8')).command).toBe('fleet down');
    await release();
  });

  it('never shows a reader an empty or torn lock, and leaves no temp file', async () => {
    const path = join(dir, 'whole.lock');
    const release = await acquireLock(path, 'fleet up');
    expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(process.pid);
    await release();
    expect(readdirSync(dir).filter((f) => f.startsWith('.whole.lock') || f.includes('.reap'))).toEqual([]);
  });
});
