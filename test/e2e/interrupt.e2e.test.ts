// Ctrl-C during `fleet up` in a real terminal (tmux): the terminal is
// given back (cursor shown, auto-wrap on), the lock released, and the resume command printed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureLibvirtd, ensureTestImage, portBlock, stopPassts, systemUri } from '@agentfleet/testing';
import { fleet, fleetMain } from '@agentfleet/testing/fleet-cli';
import { writeFleetConfig } from '@agentfleet/testing/provision-fixture';
import { afterAll, beforeAll, expect, it } from 'vitest';

const agent = `cl${Math.floor(Math.random() * 36 ** 5).toString(36)}`;
let dir: string;

beforeAll(async () => {
  await ensureLibvirtd();
  const image = await ensureTestImage();
  dir = mkdtempSync(join(tmpdir(), 'cli16-int-'));
  await writeFleetConfig(dir, image, join(dir, 'state'), portBlock());
  writeFileSync(
    join(dir, 'agents', `${agent}.yaml`),
    'memory: 256MiB\nvcpus: 1\nshareCores: true\ndesktop: false\ngit: { email: cl@example.org }\n',
  );
});

afterAll(async () => {
  if (!dir) return;
  await fleet(dir, ['destroy', agent, '--purge', '--yes']);
  // Whatever destroy could not remove must not outlive the test.
  stopPassts([agent]);
  for (const cmd of [['destroy'], ['undefine', '--nvram']])
    try {
      execFileSync('virsh', ['-c', systemUri, ...cmd, `agent-${agent}`], { stdio: 'ignore' });
    } catch {}
  rmSync(dir, { recursive: true, force: true });
}, 180_000);

/** Runs `fleet up` in a tmux terminal, presses Ctrl-C once the guest is booting; the raw output. */
async function upThenCtrlC(): Promise<{ transcript: string; exit: string | undefined }> {
  const log = join(dir, 'pane.log');
  const session = `cli16-${agent}`;
  const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });
  // The wrapping shell ignores SIGINT so it survives the Ctrl-C and reports fleet's exit code
  // (fleet installs its own handler, which overrides the inherited "ignore").
  const command = `trap '' INT; ${process.execPath} ${fleetMain} --dir ${dir} up ${agent} --no-provision; echo EXIT=$?; sleep 600`;
  tmux('new-session', '-d', '-s', session, '-x', '160', '-y', '40', 'sh', '-c', `sleep 0.5; ${command}`);
  try {
    tmux('pipe-pane', '-t', session, '-o', `cat >> ${log}`);
    const read = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
    const until = async (pattern: RegExp) => {
      while (!pattern.test(read())) await new Promise((r) => setTimeout(r, 200));
    };
    // The SSH wait is drawn once the domain started: the bars are up and the lock is held.
    await until(/await-ssh\.\.\.|ssh: waiting for|EXIT=/);
    tmux('send-keys', '-t', session, 'C-c');
    await until(/EXIT=\d+/);
    const transcript = read();
    return { transcript, exit: /EXIT=(\d+)/.exec(transcript)?.[1] };
  } finally {
    // The session may be gone already (the shell exits on the Ctrl-C after fleet did).
    spawnSync('tmux', ['kill-session', '-t', session]);
  }
}

it('Ctrl-C during up restores the terminal, releases the lock and says how to resume', async () => {
  const { transcript, exit } = await upThenCtrlC();
  const hid = transcript.lastIndexOf('\x1b[?25l');
  expect(hid, 'the progress bars hid the cursor').toBeGreaterThan(-1);
  expect(transcript.indexOf('\x1b[?25h', hid)).toBeGreaterThan(hid);
  expect(transcript.indexOf('\x1b[?7h', transcript.lastIndexOf('\x1b[?7l'))).toBeGreaterThan(hid);
  expect(transcript, transcript.slice(-800)).toContain(`finished: ${agent} (create-disk, define, start)`);
  // The resume command is the user's own command line (here with the test's --dir).
  expect(transcript).toContain(`run \`fleet --dir ${dir} up ${agent} --no-provision\` to resume`);
  expect(exit).toBe('130');
  expect(existsSync(join(dir, 'state', 'fleet.lock'))).toBe(false);
}, 240_000);
