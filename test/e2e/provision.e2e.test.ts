// Two-phase provisioning for real: a tiny VM standing in for NixOS (its nixos-rebuild decrypts
// the uploaded secrets/*.age with its own host key using the real `age`), real ssh2 sessions,
// host-key capture, a rekey with packages/secrets evaluated through nix-instantiate, and the
// state kept in a real state.json.
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { secretsRekeyer } from '@agentfleet/app/provisioning';
import { parsePublicKeyLine, publicKeyLine } from '@agentfleet/core';
import {
  bookProvisionStore,
  JsonStateStore,
  type ProvisionDeps,
  provisionAgent,
  StateBook,
} from '@agentfleet/engine';
import { bootTestVm, ensureLibvirtd, ensureTestImage, type TestVm } from '@agentfleet/testing';
import {
  awaitHostKey,
  inVm,
  makeSecretsFleet,
  sshKeygen,
  vmConnector,
} from '@agentfleet/testing/provision-fixture';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const AGENT = 'drago';
const SECRET = 'api-token';
const PLAINTEXT = 'token-for-drago\n';

let vm: TestVm | undefined;
let fleetDir: string;
let stateDir: string;
let adminKey: string;
let loginKey: string;

const connector = () => vmConnector(() => vm as TestVm, loginKey);

async function inAgent(command: string): Promise<{ code: number; out: string }> {
  return inVm(connector(), AGENT, (await openBook()).get(AGENT)?.hostKey as string, command);
}

const openBook = () => StateBook.open(new JsonStateStore(join(stateDir, 'state.json')));

async function provision(opts: { from?: 'phase1' | 'phase2' | 'hostkey'; rekey?: boolean } = {}) {
  const book = await openBook();
  const deps: ProvisionDeps = {
    connector: connector(),
    secrets: secretsRekeyer(join(fleetDir, 'secrets'), [adminKey]),
    store: bookProvisionStore(book),
    reporter: { step: () => {}, line: () => {} },
    stateDir,
    fleetDir,
    flake: '.',
    sshUserOf: () => 'root',
  };
  return provisionAgent(deps, { agent: AGENT, secrets: [SECRET], ...opts });
}

/** What the guest's nixos-rebuild did, one entry per run: the arguments and what agenix managed. */
async function rebuildLog(): Promise<string[]> {
  const { out } = await inAgent('cat /var/log/nixos-rebuild.log 2>/dev/null || true');
  return out.split('\n').filter(Boolean);
}
const switches = (log: string[]) => log.filter((l) => l.startsWith('switch --flake'));

async function bootAndPin(disk?: string, fwcfg?: Record<string, string>): Promise<void> {
  vm = await bootTestVm({ ...(disk && { disk }), ...(fwcfg && { fwcfg }) });
  const presented = await awaitHostKey(AGENT, vm, loginKey);
  const book = await openBook();
  // What `fleet up` records when the agent first answers SSH (the engine's hand-over point).
  if (book.get(AGENT) === undefined) await book.update(AGENT, { phase: 'ssh-ready', hostKey: presented });
}

beforeAll(async () => {
  await ensureLibvirtd();
  const fleet = await makeSecretsFleet({ [AGENT]: [SECRET] }, { [SECRET]: PLAINTEXT });
  fleetDir = fleet.dir;
  adminKey = fleet.adminKey;
  stateDir = join(fleetDir, 'state');
  loginKey = await readFile((await ensureTestImage()).privateKeyPath, 'utf8');
  await bootAndPin();
}, 660_000);

afterAll(async () => {
  await vm?.remove();
  await rm(fleetDir, { recursive: true, force: true });
});

// Generous limits: TCG guests on a busy 2-core machine (the last case boots the VM again); these bound a hang, they
// measure nothing.
describe('two-phase provisioning on a real VM', { timeout: 660_000 }, () => {
  it('the VM cannot decrypt in phase 1, can after host-key capture + rekey + phase 2', async () => {
    const result = await provision();
    expect(result).toEqual({
      agent: AGENT,
      ok: true,
      ran: ['phase1', 'hostkey', 'rekeyed', 'phase2', 'ready'],
    });

    const log = await rebuildLog();
    expect(switches(log)).toEqual([
      `switch --flake /var/lib/agentfleet/flake#agent-${AGENT}`,
      // Phase 1 resolved the inputs (the fleet had no flake.lock); phase 2 uses the lock it wrote.
      `switch --flake /var/lib/agentfleet/flake#agent-${AGENT} --no-update-lock-file`,
    ]);
    // Phase 1 ran before the rekey: agenix could not open the secret; phase 2 could.
    expect(log.filter((l) => l.endsWith(`: ${SECRET}`))).toEqual([
      `skipped: ${SECRET}`,
      `decrypted: ${SECRET}`,
    ]);
    expect((await inAgent(`cat /run/agenix/${SECRET}`)).out).toBe(PLAINTEXT);

    // The recorded key is the VM's /var/ssh key, and the secret is now encrypted to it too.
    const recorded = (await readFile(join(fleetDir, 'secrets', 'hosts', `${AGENT}.pub`), 'utf8')).trim();
    const inGuest = (await inAgent('cat /var/ssh/ssh_host_ed25519_key.pub')).out;
    expect(recorded).toBe(publicKeyLine(parsePublicKeyLine(inGuest)));
    const state = JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8'));
    expect(state.agents[AGENT].provision).toMatchObject({ done: 'ready', hostKey: recorded });
    expect(state.agents[AGENT].hostKey).toBe(recorded);
  });

  it('a second run does nothing; --from phase2 rebuilds once more', async () => {
    const before = switches(await rebuildLog()).length;
    expect(await provision()).toMatchObject({ ok: true, ran: [] });
    expect(switches(await rebuildLog())).toHaveLength(before);
    expect(await provision({ from: 'phase2' })).toMatchObject({ ok: true, ran: ['phase2', 'ready'] });
    expect(switches(await rebuildLog())).toHaveLength(before + 1);
  });

  it('a failing rebuild stops with its last lines and log path, and the next run resumes at it', async () => {
    await writeFile(join(fleetDir, 'FAIL_REBUILD'), '');
    const failed = await provision({ from: 'phase2' });
    await rm(join(fleetDir, 'FAIL_REBUILD'));
    if (failed.ok) throw new Error('rebuild with FAIL_REBUILD succeeded');
    expect(failed.step).toBe('phase2');
    expect(failed.tail.join('\n')).toContain('FAIL_REBUILD present');
    expect(await readFile(failed.logPath, 'utf8')).toContain('FAIL_REBUILD present');

    expect(await provision()).toMatchObject({ ok: true, ran: ['phase2', 'ready'] });
  });

  it('refuses a key file that is not the key the server proved', async () => {
    const other = sshKeygen(join(fleetDir, 'other_ed25519'));
    const fake = (await readFile(`${other}.pub`, 'utf8')).trim();
    await inAgent(
      `cp /var/ssh/ssh_host_ed25519_key.pub /root/real.pub && echo '${fake}' > /var/ssh/ssh_host_ed25519_key.pub`,
    );
    try {
      const r = await provision({ from: 'hostkey' });
      expect(r).toMatchObject({ ok: false, step: 'hostkey' });
      if (!r.ok) expect(r.message).toContain('did not prove');
    } finally {
      await inAgent('cp /root/real.pub /var/ssh/ssh_host_ed25519_key.pub');
    }
    expect(await provision()).toMatchObject({ ok: true, ran: ['hostkey', 'rekeyed', 'phase2', 'ready'] });
  });

  it('a VM with a new host key is refused at connect; --rekey re-captures, re-pins and rekeys', async () => {
    const old = (await readFile(join(fleetDir, 'secrets', 'hosts', `${AGENT}.pub`), 'utf8')).trim();
    const disk = join(fleetDir, 'disk.qcow2');
    const current = vm as TestVm;
    // The guest forgets its key (as if reinstalled): a key already on the disk is never replaced.
    await inAgent('rm -f /boot/agentfleet/ssh_host_ed25519_key && sync');
    await current.shutdown();
    await copyFile(current.disk, disk);
    await current.remove();
    // Same disk, but the guest now gets another host key through fw_cfg.
    const fresh = sshKeygen(join(fleetDir, 'new_host_ed25519'));
    await bootAndPin(disk, { ssh_host_ed25519_key: await readFile(fresh, 'utf8') });

    const refused = await provision({ from: 'phase2' });
    expect(refused).toMatchObject({ ok: false, step: 'phase2' });
    if (!refused.ok) expect(refused.message).toMatch(/does not match its pinned key/);

    const r = await provision({ rekey: true });
    expect(r).toMatchObject({ ok: true, ran: ['hostkey', 'rekeyed', 'phase2', 'ready'] });
    const recorded = (await readFile(join(fleetDir, 'secrets', 'hosts', `${AGENT}.pub`), 'utf8')).trim();
    expect(recorded).not.toBe(old);
    expect(recorded).toBe(publicKeyLine(parsePublicKeyLine(await readFile(`${fresh}.pub`, 'utf8'))));
    expect((await openBook()).get(AGENT)?.hostKey).toBe(recorded);
    expect((await inAgent(`cat /run/agenix/${SECRET}`)).out).toBe(PLAINTEXT);
  });
});
