import { afterEach, describe, expect, it, vi } from 'vitest';
import { progressSink } from './progress.js';
import { formatDuration } from './status.js';
import { formatTable } from './table.js';

describe('status output', () => {
  it('aligns columns and keeps the last one unpadded', () => {
    expect(
      formatTable(
        ['NAME', 'STATE'],
        [
          ['drago', 'running'],
          ['luce-long', 'shutoff'],
        ],
      ),
    ).toBe('NAME       STATE\ndrago      running\nluce-long  shutoff');
  });

  it('formats uptime compactly', () => {
    expect([formatDuration(5), formatDuration(65), formatDuration(3 * 3600 + 7 * 60)]).toEqual([
      '5s',
      '1m05s',
      '3h07m',
    ]);
  });
});

describe('plain progress lines (no terminal)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('prints one timestamped line per step and per quarter of a disk copy, no second ok', () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    const { sink } = progressSink({ interactive: false, clock: () => new Date(2026, 0, 1, 7, 5, 9) });
    sink({ type: 'step', agent: 'drago', step: 'create-disk', status: 'start' });
    for (let done = 0; done <= 100; done += 5) sink({ type: 'bytes', agent: 'drago', done, total: 100 });
    sink({ type: 'step', agent: 'drago', step: 'create-disk', status: 'done' });
    sink({ type: 'agent', agent: 'luce', status: 'done' });
    sink({ type: 'agent', agent: 'drago', status: 'failed', error: 'ssh timed out\nconsole tail...' });
    expect(lines).toEqual([
      '07:05:09 drago: create-disk...\n',
      '07:05:09 drago: disk 0 B of 100 B (0%)\n',
      '07:05:09 drago: disk 25 B of 100 B (25%)\n',
      '07:05:09 drago: disk 50 B of 100 B (50%)\n',
      '07:05:09 drago: disk 75 B of 100 B (75%)\n',
      '07:05:09 drago: disk 100 B of 100 B (100%)\n',
      '07:05:09 drago: create-disk done\n',
      '07:05:09 drago: FAILED: ssh timed out\n',
    ]);
  });
});
