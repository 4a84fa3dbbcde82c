import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { writeFileAtomicSync as writeFileAtomic } from '@agentfleet/atomic-file';
import { afterEach, describe, expect, it } from 'vitest';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentfleet-atomic-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('replaces the file and leaves no temp file behind', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ledger.yaml'), 'old\n');
    writeFileAtomic(join(dir, 'ledger.yaml'), 'new\n');
    expect(readFileSync(join(dir, 'ledger.yaml'), 'utf8')).toBe('new\n');
    expect(readdirSync(dir)).toEqual(['ledger.yaml']);
  });

  it('keeps the old file when the write fails', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ledger.yaml'), 'old\n');
    // Renaming the temp file over a directory fails after the temp file was written.
    expect(() => writeFileAtomic(dir, 'new\n')).toThrow(/EISDIR|directory/);
    expect(readFileSync(join(dir, 'ledger.yaml'), 'utf8')).toBe('old\n');
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith(`.${basename(dir)}.`))).toEqual([]);
  });
});
