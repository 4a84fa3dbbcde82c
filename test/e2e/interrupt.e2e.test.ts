// Ctrl-C during `fleet up` in a real terminal (tmux): the terminal is
// given back (cursor shown, auto-wrap on), the lock released, and the resume command printed.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureLibvirtd, ensureTestImage, portBlock } from '@agentfleet/testing';
import { fleet, fleetMain } from '@agentfleet/testing/fleet-cli';
import { removeDomains, writeAgent, writeFleetConfig } from '@agentfleet/testing/provision-fixture';
import { inTerminal } from '@agentfleet/testing/terminal';
import { afterAll, beforeAll, expect, it } from 'vitest';

const agent = `cl${Math.floor(Math.random() * 36 ** 5).toString(36)}`;
let dir: string;

beforeAll(async () => {
  await ensureLibvirtd();
  const image = await ensureTestImage();
  dir = mkdtempSync(join(tmpdir(), 'cli16-int-'));
  await writeFleetConfig(dir, image, join(dir, 'state'), portBlock());
  await writeAgent(dir, agent, []);
});

afterAll(async () => {
  if (!dir) return;
  await fleet(dir, ['destroy', agent, '--purge', '--yes']);
  // Whatever destroy could not remove must not outlive the test.
  removeDomains([agent], join(dir, 'state'));
  rmSync(dir, { recursive: true, force: true });
}, 180_000);

/** Runs `fleet up` in a tmux terminal, presses Ctrl-C once the guest is booting; the raw output. */
const upThenCtrlC = () =>
  inTerminal(
    [process.execPath, fleetMain, '--dir', dir, 'up', agent, '--no-provision'],
    // The SSH wait is drawn once the domain started: the bars are up and the lock is held.
    [{ when: /await-ssh\.\.\.|ssh: waiting for|EXIT=/, keys: ['C-c'] }],
    600_000,
  );

it('Ctrl-C during up restores the terminal, releases the lock and says how to resume', async () => {
  const { transcript, code } = await upThenCtrlC();
  const hid = transcript.lastIndexOf('\x1b[?25l');
  expect(hid, 'the progress bars hid the cursor').toBeGreaterThan(-1);
  expect(transcript.indexOf('\x1b[?25h', hid)).toBeGreaterThan(hid);
  expect(transcript.indexOf('\x1b[?7h', transcript.lastIndexOf('\x1b[?7l'))).toBeGreaterThan(hid);
  expect(transcript, transcript.slice(-800)).toContain(`finished: ${agent} (create-disk, define, start)`);
  // The resume command is the user's own command line (here with the test's --dir).
  expect(transcript).toContain(`run \`fleet --dir ${dir} up ${agent} --no-provision\` to resume`);
  expect(code).toBe(130);
  expect(existsSync(join(dir, 'state', 'fleet.lock'))).toBe(false);
}, 240_000);
