import { describe, expect, it } from 'vitest';
import { commandWord } from './command-line.js';

describe('commandWord', () => {
  it.each([
    [['validate'], 'validate'],
    [['--json', 'xml', 'drago'], 'xml'],
    [['--dir', 'up', 'validate'], 'validate'],
    [['--log-level', 'debug', '--dir=x', 'allocate'], 'allocate'],
    [['--help'], undefined],
    [[], undefined],
    [['--', 'status'], 'status'],
  ])('%j -> %s', (args, word) => {
    expect(commandWord(args)).toBe(word);
  });
});
