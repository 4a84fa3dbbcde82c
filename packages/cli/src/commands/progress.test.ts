import { afterEach, describe, expect, it, vi } from 'vitest';
import { progressSink } from './progress.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('progress lines during `fleet up`', () => {
  it('render guest output (provision lines, failure reasons) inert, colour kept', () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    const { sink } = progressSink({ interactive: false });
    sink({ type: 'message', agent: 'a', message: '| x\x1b]52;c;cm0gLXJmIH4K\x07y \x1b[31mred\x1b[0m' });
    sink({ type: 'agent', agent: 'a', status: 'failed', error: 'boom\x1b]0;title\x1b\\!' });
    expect(written).toEqual(['a: | xy \x1b[31mred\x1b[0m\n', 'a: FAILED: boom!\n']);
  });
});
