import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agentFiles, LocalAgentFiles, removeAgentLogs } from './agent-files.js';

// The real store behind the engine's AgentFileStore (engine.test.ts runs the engine on the in-memory one).
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function stateDir(): Promise<string> {
  const d = await mkdtemp('/tmp/app-agent-files-');
  dirs.push(d);
  await mkdir(join(d, 'logs'));
  return d;
}

describe('LocalAgentFiles', () => {
  it("lists the agent's files that exist and deletes them, a directory with what is under it", async () => {
    const dir = await stateDir();
    const files = agentFiles(dir, 'drago');
    const byWhat = (what: string) => files.find((f) => f.what === what)?.path as string;
    await writeFile(byWhat('console log'), 'x');
    await writeFile(join(dir, '.agent-drago.qcow2.partial'), 'half');
    await mkdir(join(byWhat('runtime directory'), 'sub'), { recursive: true });
    await writeFile(join(byWhat('runtime directory'), 'sub', 'spice.sock'), '');
    await writeFile(join(dir, 'agent-luce.console.log'), 'another agent');
    const store = new LocalAgentFiles();
    const existing = await store.existing(files);
    expect(existing.map((f) => f.what)).toEqual([
      'partial disk (a killed run was making it)',
      'console log',
      'runtime directory',
    ]);
    await store.remove(existing);
    await store.remove(existing); // gone already: no error
    expect(await store.existing(files)).toEqual([]);
    // The agent's runtime directory went; the state dir's run/ holding it stays for the others.
    expect((await readdir(dir)).sort()).toEqual(['agent-luce.console.log', 'logs', 'run']);
    expect(await readdir(join(dir, 'run'))).toEqual([]);
  });

  it('removeAgentLogs deletes only the logs', async () => {
    const dir = await stateDir();
    const files = agentFiles(dir, 'drago');
    for (const f of files.filter((f) => f.log || f.what === 'partial disk (a killed run was making it)'))
      await writeFile(f.path, 'a previous guest\n');
    await removeAgentLogs(new LocalAgentFiles(), dir, 'drago');
    expect((await new LocalAgentFiles().existing(files)).map((f) => f.what)).toEqual([
      'partial disk (a killed run was making it)',
    ]);
  });
});
