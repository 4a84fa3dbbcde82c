// Host-side hygiene through the built CLI on a real agent (libvirt + QEMU TCG, the tiny image
// standing in for NixOS): the state dir is private after `fleet up` (and an old, open one is
// tightened), the flake upload carries only what git would commit, a hostile guest's terminal
// controls (OSC 52 clipboard write, window title, screen clear) never reach the operator's output
// while colour does, and a guest that floods its rebuild output leaves capped logs.
import { execFileSync } from 'node:child_process';
import { appendFile, chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureLibvirtd, ensureTestImage, portBlock } from '@agentfleet/testing';
import { fleet, fleetOk } from '@agentfleet/testing/fleet-cli';
import {
  inVm,
  makeSecretsFleet,
  removeDomains,
  vmConnector,
  writeAgent,
  writeFleetConfig,
} from '@agentfleet/testing/provision-fixture';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const LIMIT = 900_000;
const agent = `ih${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 2).toString(36)}`;
const SECRET = `${agent}-token`;
const portBase = portBlock();

const ESC = '\x1b';
const OSC52 = `${ESC}]52;c;cm0gLXJmIH4K\x07`; // "rm -rf ~" into the clipboard
const TITLE = `${ESC}]0;pwned-title${ESC}\\`;
const CLEAR = `${ESC}[2J${ESC}[H`;
const RED = `${ESC}[31m`;
const RESET = `${ESC}[0m`;
/** What the hostile guest prints (as printf format: \033 and \a spelled out). */
const HOSTILE_PRINTF = String.raw`before-osc\033]52;c;cm0gLXJmIH4K\aafter-osc \033]0;pwned-title\033\\titled \033[2J\033[Hcleared \033[31mred-text\033[0m\n`;
const SANITIZED = `before-oscafter-osc titled cleared ${RED}red-text${RESET}`;
const FLOOD_BYTES = 6 * 1024 * 1024;
const LOG_CAP = 4 * 1024 * 1024;

let dir: string;
let stateDir: string;
let loginKey: string;

async function inAgent(command: string): Promise<string> {
  const state = JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8')).agents[agent];
  const status = JSON.parse((await fleetOk(dir, ['--json', 'status'])).stdout);
  const connector = vmConnector(() => ({ sshPort: status.agents[0].sshPort }), loginKey);
  const r = await inVm(connector, agent, state.hostKey, command);
  if (r.code !== 0) throw new Error(`${command} exited ${r.code}: ${r.out}`);
  return r.out;
}

const mode = async (p: string) => (await stat(p)).mode & 0o777;

function expectInert(text: string) {
  expect(text).not.toContain(OSC52);
  expect(text).not.toContain(']52;');
  expect(text).not.toContain(TITLE);
  expect(text).not.toContain('pwned-title');
  expect(text).not.toContain(CLEAR);
  expect(text).not.toContain('\x07');
}

beforeAll(async () => {
  await ensureLibvirtd();
  const image = await ensureTestImage();
  loginKey = await readFile(image.privateKeyPath, 'utf8');
  const fleetRepo = await makeSecretsFleet(
    { [agent]: [SECRET] },
    { [SECRET]: 'hunter2\n' },
    image.privateKeyPath,
  );
  dir = fleetRepo.dir;
  stateDir = join(dir, 'state');
  await writeFleetConfig(dir, image, stateDir, portBase);
  await writeAgent(dir, agent, [SECRET]);
  // What must stay on the host: ignored by .gitignore (the key by the fixture's *_ed25519 rule).
  await appendFile(join(dir, '.gitignore'), '.env\npasswords.txt\n.direnv/\n');
  await writeFile(join(dir, '.env'), 'OPENAI_API_KEY=sk-planted\n');
  await writeFile(join(dir, 'passwords.txt'), 'root:hunter2\n');
  await mkdir(join(dir, 'keys'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'keys', 'deploy_ed25519')]);
  await mkdir(join(dir, '.direnv', 'flake-profile'), { recursive: true });
  await writeFile(join(dir, '.direnv', 'flake-profile', 'env'), 'export SECRET=planted\n');
  // A state dir as an older fleet left it: world-readable, with a log of guest output in it.
  await mkdir(join(stateDir, 'logs'), { recursive: true, mode: 0o755 });
  await chmod(stateDir, 0o755);
  await writeFile(join(stateDir, 'logs', 'old.log'), 'guest output\n', { mode: 0o644 });
}, LIMIT);

afterAll(async () => {
  removeDomains([agent], stateDir);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.sequential('host-side hygiene on a real agent', () => {
  it(
    'fleet up leaves the state dir private and tightens what an older fleet left open',
    async () => {
      await fleetOk(dir, ['up']);
      expect(await mode(stateDir)).toBe(0o700);
      expect(await mode(join(stateDir, 'logs'))).toBe(0o700);
      for (const f of [
        `agent-${agent}.qcow2`,
        'state.json',
        'known_hosts',
        'ssh_config',
        `logs/agent-${agent}.provision.log`,
        'logs/old.log',
      ]) {
        expect([f, await mode(join(stateDir, f))]).toEqual([f, 0o600]);
      }
      // The overlay still boots and answers with the pinned key: private modes did not break QEMU.
      expect(await inAgent('echo alive')).toBe('alive\n');
    },
    LIMIT,
  );

  it(
    'the agent got what git would commit, and none of the planted local files nor the state dir',
    async () => {
      const files = (await inAgent('cd /var/lib/agentfleet/flake && find . -type f | sort'))
        .split('\n')
        .filter(Boolean)
        .map((f) => f.replace(/^\.\//, ''));
      expect(files).toContain('flake.nix');
      expect(files).toContain(`secrets/${SECRET}.age`);
      expect(files).toContain(`agents/${agent}.yaml`);
      const leaked = files.filter((f) =>
        /(^|\/)(\.env|passwords\.txt|deploy_ed25519(\.pub)?|admin_ed25519)$|^\.direnv\/|^state\//.test(f),
      );
      expect(leaked).toEqual([]);
    },
    LIMIT,
  );

  it(
    "a guest's OSC 52, title and screen-clear sequences never reach the operator; colour does",
    async () => {
      // The guest's nixos-rebuild turns hostile: it prints terminal controls on stdout and stderr.
      const wrapper = [
        '#!/bin/sh',
        `printf '${HOSTILE_PRINTF}'`,
        `printf '${HOSTILE_PRINTF}' >&2`,
        `[ -e /var/lib/agentfleet/flake/FLOOD ] && yes 'flood line from a chatty guest' | head -c ${FLOOD_BYTES}`,
        'exec /usr/bin/nixos-rebuild.real "$@"',
        '',
      ].join('\n');
      // base64 keeps the script's quoting away from the shell that installs it.
      await inAgent(
        'mv /usr/bin/nixos-rebuild /usr/bin/nixos-rebuild.real && ' +
          `echo ${Buffer.from(wrapper).toString('base64')} | base64 -d > /usr/bin/nixos-rebuild && ` +
          'chmod 755 /usr/bin/nixos-rebuild',
      );
      // The raw sequences really are in what the guest sends (the test is not vacuous).
      expect(await inAgent('nixos-rebuild 2>/dev/null | head -1')).toContain(OSC52);

      const ok = await fleetOk(dir, ['rebuild']);
      expectInert(ok.stdout + ok.stderr);
      expect(ok.stderr).toContain(`${agent}: | ${SANITIZED}`);

      // `fleet provision` streams the same guest output through its own reporter.
      const provisioned = await fleetOk(dir, ['provision', agent, '--from', 'phase2']);
      expectInert(provisioned.stdout + provisioned.stderr);
      expect(provisioned.stderr).toContain(`${agent}: | ${SANITIZED}`);

      // A failure quotes the guest's last lines: the tail is sanitized as well.
      await writeFile(join(dir, 'FAIL_REBUILD'), '');
      try {
        const failed = await fleet(dir, ['rebuild']);
        expect(failed.code).toBe(1);
        expectInert(failed.stdout + failed.stderr);
        expect(failed.stdout).toContain(SANITIZED);
        expect(failed.stdout).toContain('FAIL_REBUILD present');
      } finally {
        await rm(join(dir, 'FAIL_REBUILD'));
      }

      // The serial console, read by `fleet logs`.
      await inAgent(`printf 'console-${HOSTILE_PRINTF}' > /dev/console`);
      let logs = '';
      for (let i = 0; i < 100 && !logs.includes('console-before-osc'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        logs = (await fleetOk(dir, ['logs', agent, '-n', '50'])).stdout;
      }
      expect(logs).toContain(`console-${SANITIZED}`);
      expectInert(logs);
      const raw = await readFile(join(stateDir, `agent-${agent}.console.log`), 'utf8');
      expect(raw).toContain(OSC52); // what the guest wrote, kept as data in the file
    },
    LIMIT,
  );

  it(
    'a guest flooding its rebuild output leaves a capped log and one rotation',
    async () => {
      await writeFile(join(dir, 'FLOOD'), '');
      try {
        const r = await fleetOk(dir, ['rebuild']);
        expect(r.stderr).toContain('flood line from a chatty guest');
      } finally {
        await rm(join(dir, 'FLOOD'));
      }
      const log = join(stateDir, 'logs', `agent-${agent}.provision.log`);
      const [current, previous] = [(await stat(log)).size, (await stat(`${log}.1`)).size];
      expect(current).toBeLessThan(LOG_CAP);
      expect(previous).toBeLessThan(LOG_CAP + 64 * 1024);
      expect(current + previous).toBeLessThan(2 * LOG_CAP);
      expect(await mode(`${log}.1`)).toBe(0o600);
      // The rebuild still finished: the end of the output is in the current log.
      expect(await readFile(log, 'utf8')).toContain('nixos-rebuild: done');
    },
    LIMIT,
  );
});
