import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    // A zombie is dead too: it only waits for its parent to reap it.
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
};

describe('runTied', () => {
  it('a helper dies with the process that started it, even when that one is SIGKILLed', async () => {
    // A stand-in for fleet (the built module, as fleet runs it): starts a long helper through runTied, is then
    // killed -9.
    const module = fileURLToPath(new URL('../../dist/adapters/tied-child.js', import.meta.url));
    const parent = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { runTied } from ${JSON.stringify(module)};
         runTied('sh', ['-c', 'echo $$; exec sleep 60']).catch(() => {});
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let helper = 0;
    try {
      // runTied buffers the helper's stdout, so the helper is found by its parent instead.
      await vi.waitFor(
        () => {
          const children = readFileSync(`/proc/${parent.pid}/task/${parent.pid}/children`, 'utf8').trim();
          helper = Number(children.split(' ')[0]);
          expect(readFileSync(`/proc/${helper}/cmdline`, 'utf8')).toMatch(/^sleep\0/);
        },
        { timeout: 10_000 },
      );
      parent.kill('SIGKILL');
      await vi.waitFor(() => expect(alive(helper)).toBe(false), { timeout: 5_000 });
    } finally {
      parent.kill('SIGKILL');
      if (helper && alive(helper)) process.kill(helper, 'SIGKILL');
    }
  });
});
