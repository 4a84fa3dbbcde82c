// Progress in a real terminal (tmux), on one VM. `fleet up`: the disk copy shows bytes of the total
// with a rate, and the SSH wait how long it has waited against its limit (stopped by Ctrl-C once the
// wait is on screen; the interrupt path itself is interrupt.e2e.test.ts's subject). Then, provisioned,
// `fleet rebuild` shows the guest's output as a fixed tail under the agent's bar; off a terminal every
// line is stamped; `up`, `provision`, `rebuild`, `down` and `destroy` --json validate against their schemas.
import { appendFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureLibvirtd, ensureTestImage, portBlock } from '@agentfleet/testing';
import { fleet, fleetMain, fleetOk } from '@agentfleet/testing/fleet-cli';
import { expectSchema } from '@agentfleet/testing/json-schemas';
import {
  makeSecretsFleet,
  removeDomains,
  writeAgent,
  writeFleetConfig,
} from '@agentfleet/testing/provision-fixture';
import { inTerminal, type TerminalStep } from '@agentfleet/testing/terminal';
import { afterAll, beforeAll, expect, it } from 'vitest';

const agent = `cl${Math.floor(Math.random() * 36 ** 5).toString(36)}`;
const SECRET = `${agent}-token`;
let dir: string;

beforeAll(async () => {
  await ensureLibvirtd();
  const image = await ensureTestImage();
  // A git repository with agenix rules and one secret, encrypted to the key fleet logs in with (the admin).
  dir = (await makeSecretsFleet({ [agent]: [SECRET] }, { [SECRET]: 'x\n' }, image.privateKeyPath)).dir;
  appendFileSync(join(dir, '.gitignore'), '*.log\n');
  // A full copy of the ~20 MB image: the bytes the bar must show.
  await writeFleetConfig(dir, image, join(dir, 'state'), portBlock(), { diskMode: 'copy', network: 'open' });
  await writeAgent(dir, agent, [SECRET]);
});

afterAll(async () => {
  if (!dir) return;
  await fleet(dir, ['destroy', agent, '--purge', '--yes']);
  // Whatever destroy could not remove must not outlive the test.
  removeDomains([agent], join(dir, 'state'));
  rmSync(dir, { recursive: true, force: true });
}, 180_000);

/** Runs `fleet ARGS` in a 160x40 tmux pane (inTerminal); the bound is for a TCG guest under load. */
const inFleetTerminal = (args: string[], steps: TerminalStep[] = []) =>
  inTerminal([process.execPath, fleetMain, '--dir', dir, ...args], steps, 600_000);

it('the copy bar shows bytes of the total and a rate; the SSH wait its elapsed time and limit', async () => {
  const { transcript } = await inFleetTerminal(
    ['up', agent, '--no-provision'],
    // A second of waiting on screen, so the elapsed counter has moved at least once.
    [{ when: /ssh: waiting for \w+ \([1-9]\d*s of \d+s\)|EXIT=/, keys: ['C-c'] }],
  );
  expect(transcript, transcript.slice(-1500)).toMatch(/disk \d+(\.\d)? [KM]iB of \d+\.\d MiB/);
  expect(transcript).toMatch(/disk [\d.]+ [KM]iB of [\d.]+ MiB, [\d.]+ [KMG]iB\/s, ETA \d+s/);
  expect(transcript).toMatch(/ssh: waiting for \w+ \([1-9]\d*s of \d+s\)/);
}, 240_000);

it('rebuild on a terminal: the guest output is a tail under the bar; off a terminal stamped lines; JSON validates', async () => {
  // Off a terminal (the interrupted up resumes and provisions): each line has its time and agent.
  const up = await fleetOk(dir, ['--json', 'up', agent]);
  expect(expectSchema(up.stdout, 'up')).toMatchObject({ ok: true, outcomes: [{ agent, ok: true }] });
  expect(up.stderr).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${agent}: \\| nixos-rebuild: switch`, 'm'));
  expect(up.stderr).toMatch(
    new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${agent}: \\| agenix: decrypted ${SECRET}$`, 'm'),
  );
  const provision = await fleet(dir, ['--json', 'provision', agent, '--from', 'phase2']);
  expect(provision.code, provision.stderr).toBe(0);
  expect(expectSchema(provision.stdout, 'provision')).toMatchObject({ ok: true, ran: ['phase2', 'ready'] });

  // The stand-in nixos-rebuild fails while FAIL_REBUILD is in the uploaded flake: the failed agent's
  // tail stays on screen under its bar, each line once, in place.
  writeFileSync(join(dir, 'FAIL_REBUILD'), '');
  const failed = await inFleetTerminal(['rebuild', agent]);
  const lines = failed.screen.split('\n');
  const bar = lines.findIndex((l) => l.startsWith(agent) && /FAILED/.test(l));
  expect(bar, failed.screen).toBeGreaterThanOrEqual(0);
  // The tail: the indented lines right under the bar (at most three; trailing blanks are not shown).
  const rest = lines.slice(bar + 1);
  const tail = rest.slice(
    0,
    Math.max(
      0,
      rest.findIndex((l) => !l.startsWith('    ')),
    ),
  );
  expect(tail.length, failed.screen).toBeGreaterThanOrEqual(2);
  expect(tail.length, failed.screen).toBeLessThanOrEqual(3);
  expect(tail.join('\n'), failed.screen).toMatch(/nixos-rebuild: switch[\s\S]*FAIL_REBUILD present/);
  // Nothing scrolled past above the bar: the output was drawn in the tail's place, not as lines.
  expect(lines.slice(0, bar).join('').trim(), failed.screen).toBe('');
  expect(failed.transcript).toMatch(/EXIT=1/);
  const failedJson = await fleet(dir, ['--json', 'rebuild', agent]);
  expect(failedJson.code).toBe(1);
  expect(expectSchema(failedJson.stdout, 'rebuild')).toMatchObject({
    ok: false,
    outcomes: [
      {
        agent,
        ok: false,
        step: 'rebuild',
        tail: expect.arrayContaining([expect.stringMatching(/FAIL_REBUILD/)]),
      },
    ],
  });
  rmSync(join(dir, 'FAIL_REBUILD'));
  const rebuilt = await fleet(dir, ['--json', 'rebuild', agent]);
  expect(rebuilt.code, rebuilt.stderr).toBe(0);
  expect(expectSchema(rebuilt.stdout, 'rebuild')).toMatchObject({
    ok: true,
    outcomes: [{ agent, ok: true }],
  });
  expect(rebuilt.stderr).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${agent}: \\| nixos-rebuild: done$`, 'm'));

  // The rest of the lifecycle's --json, on the same VM: down, then destroy --purge.
  const down = await fleetOk(dir, ['--json', 'down', agent]);
  expect(expectSchema(down.stdout, 'down')).toMatchObject({ ok: true, outcomes: [{ agent, ok: true }] });
  const destroy = await fleetOk(dir, ['--json', 'destroy', agent, '--purge', '--yes']);
  expect(expectSchema(destroy.stdout, 'destroy')).toMatchObject({
    ok: true,
    outcomes: [{ agent, ok: true }],
  });
}, 500_000);
