import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentLog, provisionLogPath } from './agent-log.js';

let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'ih-agent-log-'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

describe('AgentLog', () => {
  it('rotates at the cap: the current log and one .1, nothing lost in between, mode 0600', async () => {
    const cap = 64 * 1024;
    const lines: string[] = [];
    const log = await AgentLog.open(stateDir, 'a', (l) => lines.push(l), cap);
    log.section('phase1', 'now');
    const total = 5 * cap;
    let written = 0;
    for (let i = 0; written < total; i++) {
      const line = `line ${String(i).padStart(8, '0')} ${'x'.repeat(80)}\n`;
      log.write(line);
      written += line.length;
    }
    expect(log.tail()).toHaveLength(20);
    await log.close();
    const path = provisionLogPath(stateDir, 'a');
    const [current, previous] = [await readFile(path, 'utf8'), await readFile(`${path}.1`, 'utf8')];
    expect(Buffer.byteLength(current)).toBeLessThan(cap);
    expect(Buffer.byteLength(previous)).toBeLessThanOrEqual(cap + 128);
    // .1 ends where the current log begins: the rotation split the stream, in order.
    const numbers = (text: string) => [...text.matchAll(/^line (\d+)/gm)].map((m) => Number(m[1]));
    const joined = [...numbers(previous), ...numbers(current)];
    expect(joined).toEqual(joined.map((_, i) => (joined[0] ?? 0) + i));
    expect(joined.at(-1)).toBe(lines.length - 1);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(`${path}.1`)).mode & 0o777).toBe(0o600);
  });

  it('keeps memory bounded on a line without end: cut for messages, whole in the file', async () => {
    const lines: string[] = [];
    const log = await AgentLog.open(stateDir, 'b', (l) => lines.push(l));
    for (let i = 0; i < 100; i++) log.write('y'.repeat(10_000));
    log.write('\nnext\n');
    await log.close();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^y{16384} \[line cut at 16384 characters\]$/);
    expect(lines[1]).toBe('next');
    expect((await stat(provisionLogPath(stateDir, 'b'))).size).toBe(1_000_000 + 6);
  });

  it('tightens a log an older fleet left world-readable', async () => {
    const path = provisionLogPath(stateDir, 'c');
    await mkdir(join(stateDir, 'logs'));
    await writeFile(path, 'old\n', { mode: 0o644 });
    await (await AgentLog.open(stateDir, 'c', () => {})).close();
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });
});
