// `fleet up` progress in a real terminal (tmux): the disk copy shows bytes of the total with a rate,
// and the SSH wait shows how long it has waited against its limit. One boot, stopped by Ctrl-C once
// the wait is on screen (the interrupt path itself is interrupt.e2e.test.ts's subject).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureLibvirtd, ensureTestImage, systemUri } from '@agentfleet/testing';
import { fleet, fleetMain } from '@agentfleet/testing/fleet-cli';
import { writeFleetConfig } from '@agentfleet/testing/provision-fixture';
import { afterAll, beforeAll, expect, it } from 'vitest';

const agent = `c2${Math.floor(Math.random() * 36 ** 5).toString(36)}`;
let dir: string;

beforeAll(async () => {
  await ensureLibvirtd();
  const image = await ensureTestImage();
  dir = mkdtempSync(join(tmpdir(), 'cli2-progress-'));
  const port = 46000 + Math.floor(Math.random() * 400);
  // A full copy of the ~20 MB image: the bytes the bar must show.
  await writeFleetConfig(dir, image, join(dir, 'state'), port, { diskMode: 'copy', network: 'open' });
  writeFileSync(
    join(dir, 'agents', `${agent}.yaml`),
    'memory: 256MiB\nvcpus: 1\nshareCores: true\ndesktop: false\ngit: { email: c2@example.org }\n',
  );
});

afterAll(async () => {
  if (!dir) return;
  await fleet(dir, ['destroy', agent, '--purge', '--yes']);
  for (const cmd of [['destroy'], ['undefine', '--nvram']])
    try {
      execFileSync('virsh', ['-c', systemUri, ...cmd, `agent-${agent}`], { stdio: 'ignore' });
    } catch {}
  rmSync(dir, { recursive: true, force: true });
}, 180_000);

it('the copy bar shows bytes of the total and a rate; the SSH wait its elapsed time and limit', async () => {
  const log = join(dir, 'pane.log');
  const session = `cli2-${agent}`;
  const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });
  const command = `trap '' INT; ${process.execPath} ${fleetMain} --dir ${dir} up ${agent} --no-provision; echo EXIT=$?; sleep 600`;
  tmux('new-session', '-d', '-s', session, '-x', '160', '-y', '40', 'sh', '-c', `sleep 0.5; ${command}`);
  let transcript = '';
  try {
    tmux('pipe-pane', '-t', session, '-o', `cat >> ${log}`);
    const read = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
    // A second of waiting on screen, so the elapsed counter has moved at least once.
    while (!/ssh: waiting for \w+ \([1-9]\d*s of \d+s\)|EXIT=/.test(read()))
      await new Promise((r) => setTimeout(r, 200));
    tmux('send-keys', '-t', session, 'C-c');
    while (!/EXIT=\d+/.test(read())) await new Promise((r) => setTimeout(r, 200));
    transcript = read();
  } finally {
    spawnSync('tmux', ['kill-session', '-t', session]);
  }
  expect(transcript, transcript.slice(-1500)).toMatch(/disk \d+(\.\d)? [KM]iB of \d+\.\d MiB/);
  expect(transcript).toMatch(/disk [\d.]+ [KM]iB of [\d.]+ MiB, [\d.]+ [KMG]iB\/s, ETA \d+s/);
  expect(transcript).toMatch(/ssh: waiting for \w+ \([1-9]\d*s of \d+s\)/);
}, 240_000);
