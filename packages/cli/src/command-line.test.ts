import { describe, expect, it } from 'vitest';
import { asksVersionOnly, commandWord } from './command-line.js';

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

describe('asksVersionOnly', () => {
  it.each([
    [['--version'], true],
    [['-V'], true],
    [['--json', '--version'], true],
    [['--dir', 'x', '-V'], true],
    [['--version', '--help'], false],
    [['status', '--version'], false],
    [['--help'], false],
    [[], false],
  ])('%j -> %s', (args, only) => {
    expect(asksVersionOnly(args)).toBe(only);
  });
});
