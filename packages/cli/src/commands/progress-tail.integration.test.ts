// The rebuild/provision tail in a real terminal (tmux): each agent's last guest lines stay in a
// fixed block under its own bar and are rewritten in place, whatever order the output comes in.
// The e2e (test/e2e/progress.e2e.test.ts) shows the same with a real rebuild in a VM.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '@agentfleet/testing/run-cli';
import { afterAll, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'cli-tail-'));
const sessions: string[] = [];

afterAll(() => {
  for (const session of sessions) spawnSync('tmux', ['kill-session', '-t', session]);
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs `body` (given `p`, the progress of agents cla and clb, and `tick`) in a 100x30 tmux terminal
 * and returns the pane's non-empty lines once it is done drawing.
 */
async function drawn(body: string): Promise<{ lines: string[]; screen: string }> {
  const progress = join(REPO, 'packages/cli/dist/commands/progress.js');
  const script = join(dir, `draw-${sessions.length}.mjs`);
  writeFileSync(
    script,
    `import { provisionProgress } from ${JSON.stringify(progress)};
const p = provisionProgress({ interactive: true, agents: ['cla', 'clb'], steps: 1 });
const tick = () => new Promise((r) => setTimeout(r, 20));
${body}
p.stop();
console.error('DRAWN');
setTimeout(() => {}, 60_000);
`,
  );
  const session = `cl-tail-${process.pid}-${sessions.length}`;
  sessions.push(session);
  execFileSync('tmux', [
    'new-session',
    '-d',
    '-s',
    session,
    '-x',
    '100',
    '-y',
    '30',
    process.execPath,
    script,
  ]);
  for (;;) {
    const screen = execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
    if (/DRAWN/.test(screen)) return { lines: screen.split('\n').filter((l) => l.trim() !== ''), screen };
    await new Promise((r) => setTimeout(r, 100));
  }
}

it('a tail of three lines per agent, under its own bar, updated in place', async () => {
  // Output interleaves between agents, the first agent's fifth line coming after the second's first.
  const { lines, screen } = await drawn(`
p.status('cla', 'rebuilding...');
for (let i = 1; i <= 4; i++) { p.reporter.line('cla', 'cla says ' + i); await tick(); }
p.status('clb', 'rebuilding...');
p.reporter.line('clb', 'clb says 1');
await tick();
p.reporter.line('cla', 'cla says 5');
await tick();
p.finish('clb', 'nixos-rebuild exited 1');`);
  expect(lines, screen).toEqual([
    expect.stringMatching(/^cla +\[.*\] 0% rebuilding\.\.\.$/),
    '    cla says 3',
    '    cla says 4',
    '    cla says 5',
    expect.stringMatching(/^clb +\[.*\] 0% FAILED: nixos-rebuild exited 1$/),
    '    clb says 1',
    'DRAWN',
  ]);
});

it('a finished agent\'s bar says done, its tail goes; "ok" is the result\'s word alone', async () => {
  const { lines, screen } = await drawn(`
p.status('cla', 'rebuilding...');
p.reporter.line('cla', 'cla says 1');
await tick();
p.finish('cla');
p.finish('clb');`);
  expect(lines, screen).toEqual([
    expect.stringMatching(/^cla +\[.*\] 100% done$/),
    expect.stringMatching(/^clb +\[.*\] 100% done$/),
    'DRAWN',
  ]);
});
