import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { completionScript } from './completion.js';

describe('fleet completion', () => {
  it('prints a bash script bash accepts, completing commands and global options', () => {
    const script = completionScript('bash', ['up', 'status']);
    const check = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
    // Sourced in a real bash, the completion function offers the commands for `fleet st<TAB>`.
    const run = spawnSync(
      'bash',
      ['-c', `${script}\nCOMP_WORDS=(fleet st); COMP_CWORD=1; _fleet; echo "\${COMPREPLY[@]}"`],
      { encoding: 'utf8' },
    );
    expect(run.stdout.trim()).toBe('status');
  });

  it('names every command for zsh and fish too', () => {
    for (const shell of ['zsh', 'fish'] as const) {
      expect(completionScript(shell, ['up', 'doctor'])).toMatch(/up doctor/);
    }
  });
});
