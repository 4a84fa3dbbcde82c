import { afterEach, describe, expect, it, vi } from 'vitest';
import { progressSink, provisionProgress } from './progress.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** stderr as written, and a clock the test moves. */
function capture() {
  const written: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    written.push(String(chunk));
    return true;
  });
  let now = new Date('2026-11-29T08:00:00');
  return {
    written,
    clock: () => now,
    advance: (ms: number) => {
      now = new Date(now.getTime() + ms);
    },
  };
}

describe('progress lines during `fleet up` (not a terminal)', () => {
  it('render guest output (provision lines, failure reasons) inert, colour kept, each line stamped', () => {
    const { written, clock } = capture();
    const { sink } = progressSink({ interactive: false, clock });
    sink({ type: 'message', agent: 'a', message: '| x\x1b]52;c;cm0gLXJmIH4K\x07y \x1b[31mred\x1b[0m' });
    sink({ type: 'agent', agent: 'a', status: 'failed', error: 'boom\x1b]0;title\x1b\\!' });
    expect(written).toEqual(['08:00:00 a: | xy \x1b[31mred\x1b[0m\n', '08:00:00 a: FAILED: boom!\n']);
  });

  it('a disk copy says bytes, total, speed and ETA, a line per quarter', () => {
    const { written, clock, advance } = capture();
    const { sink } = progressSink({ interactive: false, clock });
    const MiB = 2 ** 20;
    sink({ type: 'bytes', agent: 'a', done: 0, total: 20 * MiB });
    advance(1000);
    sink({ type: 'bytes', agent: 'a', done: 4 * MiB, total: 20 * MiB });
    sink({ type: 'bytes', agent: 'a', done: 5 * MiB, total: 20 * MiB });
    advance(1000);
    sink({ type: 'bytes', agent: 'a', done: 10 * MiB, total: 20 * MiB });
    expect(written).toEqual(
      [
        '08:00:00 a: disk 0 B of 20.0 MiB (0%)',
        '08:00:01 a: disk 5.0 MiB of 20.0 MiB, 5.0 MiB/s, ETA 3s (25%)',
        '08:00:02 a: disk 10.0 MiB of 20.0 MiB, 5.0 MiB/s, ETA 2s (50%)',
      ].map((l) => `${l}\n`),
    );
  });

  it('a copy too fast to report its middle still gets a rate, counted from the step start', () => {
    const { written, clock, advance } = capture();
    const { sink } = progressSink({ interactive: false, clock });
    sink({ type: 'step', agent: 'a', step: 'create-disk', status: 'start' });
    advance(2000);
    sink({ type: 'bytes', agent: 'a', done: 20 * 2 ** 20, total: 20 * 2 ** 20 });
    expect(written).toEqual([
      '08:00:00 a: create-disk...\n',
      '08:00:02 a: disk 20.0 MiB of 20.0 MiB, 10.0 MiB/s, ETA 0s (100%)\n',
    ]);
  });

  it('an SSH wait says how long it has waited and for how long it may', () => {
    const { written, clock, advance } = capture();
    const { sink } = progressSink({ interactive: false, clock });
    sink({ type: 'stage', agent: 'a', stage: 'listening', limitSeconds: 300 });
    advance(12_000);
    sink({ type: 'stage', agent: 'a', stage: 'banner', limitSeconds: 300 });
    sink({ type: 'step', agent: 'a', step: 'await-ssh', status: 'done' });
    sink({ type: 'stage', agent: 'a', stage: 'listening', limitSeconds: 300 });
    expect(written).toEqual([
      '08:00:00 a: ssh: waiting for listening (0s of 300s)\n',
      '08:00:12 a: ssh: waiting for banner (12s of 300s)\n',
      '08:00:12 a: await-ssh done\n',
      // A later wait (after a restart) has its own clock.
      '08:00:12 a: ssh: waiting for listening (0s of 300s)\n',
    ]);
  });
});

describe('provision and rebuild output (not a terminal)', () => {
  it('each step and guest line is stamped and names its agent; a failure once, success not at all', () => {
    const { written, clock, advance } = capture();
    const p = provisionProgress({ interactive: false, clock, agents: ['a', 'b'], steps: 5 });
    p.reporter.step('a', 'phase1', 'start');
    advance(61_000);
    p.reporter.line('a', 'building the system configuration\x1b]0;title\x07...');
    p.status('b', 'rebuilding...');
    p.reporter.step('a', 'phase1', 'done');
    p.finish('a');
    p.finish('b', 'nixos-rebuild exited 1\nlast lines...');
    p.stop();
    expect(written).toEqual(
      [
        '08:00:00 a: phase1...',
        '08:01:01 a: | building the system configuration...',
        '08:01:01 b: rebuilding...',
        '08:01:01 a: phase1 done',
        '08:01:01 b: FAILED: nixos-rebuild exited 1',
      ].map((l) => `${l}\n`),
    );
  });
});
