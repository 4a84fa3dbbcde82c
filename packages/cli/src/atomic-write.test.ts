import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from './atomic-write.js';

describe('writeFileAtomic', () => {
  it('replaces the file and leaves no temp file behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentfleet-atomic-'));
    writeFileSync(join(dir, 'ledger.yaml'), 'old\n');
    writeFileAtomic(join(dir, 'ledger.yaml'), 'new\n');
    expect(readFileSync(join(dir, 'ledger.yaml'), 'utf8')).toBe('new\n');
    expect(readdirSync(dir)).toEqual(['ledger.yaml']);
  });

  it('keeps the old file when the write fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentfleet-atomic-'));
    writeFileSync(join(dir, 'ledger.yaml'), 'old\n');
    // Renaming the temp file over a directory fails after the temp file was written.
    expect(() => writeFileAtomic(dir, 'new\n')).toThrow(/EISDIR|directory/);
    expect(readFileSync(join(dir, 'ledger.yaml'), 'utf8')).toBe('old\n');
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith(`.${basename(dir)}.`))).toEqual([]);
  });
});
