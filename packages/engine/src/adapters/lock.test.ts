import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
