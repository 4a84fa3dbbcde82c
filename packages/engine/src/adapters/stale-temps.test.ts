import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { removeStaleTemps } from './stale-temps.js';

it('removes the temps of writers that are gone and keeps live ones and other files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'reliab-temps-'));
  try {
    const deadPid = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['-e', '']);
      child.on('exit', () => resolve(child.pid ?? 0));
    });
    const dead = `.state.json.${deadPid}.0a1b2c3d.tmp`;
    const live = `.state.json.${process.pid}.0a1b2c3d.tmp`;
    for (const name of [dead, live, 'state.json', '.hidden.tmp']) await writeFile(join(dir, name), '');
    expect(await removeStaleTemps(dir)).toEqual([dead]);
    expect((await readdir(dir)).sort()).toEqual(['.hidden.tmp', live, 'state.json'].sort());
    expect(await removeStaleTemps(join(dir, 'missing'))).toEqual([]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
