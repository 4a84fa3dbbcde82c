// `fleet secrets` as users run it: the built CLI in a throwaway fleet repo that uses this
// repository's own secrets.nix and hosts/keys.nix, with the real nix-instantiate and `age`.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expectSchema } from '@agentfleet/testing/json-schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const cli = join(repo, 'packages/cli/dist/main.js');
const dir = mkdtempSync(join(tmpdir(), 'agentfleet-secrets-cli-'));
const home = join(dir, 'home');
const keys = join(dir, 'keys');

function keygen(name: string): string {
  const path = join(keys, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', path]);
  return path;
}

function fleet(args: string[], opts: { input?: string; editor?: string } = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  delete env.EDITOR;
  if (opts.editor !== undefined) env.EDITOR = opts.editor;
  const r = spawnSync('node', [cli, '--dir', dir, 'secrets', ...args], { env, input: opts.input ?? '' });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

function ageDecrypt(key: string, file: string): string | undefined {
  const r = spawnSync('age', ['-d', '-i', key, join(dir, 'secrets', file)]);
  return r.status === 0 ? r.stdout.toString() : undefined;
}

const read = (path: string) => readFileSync(join(dir, path), 'utf8');
let admin: string;
let drago: string;
let luce: string;

beforeAll(() => {
  for (const d of ['agents', 'hosts', 'secrets/admins', 'secrets/hosts', 'home', 'keys']) {
    mkdirSync(join(dir, d), { recursive: true });
  }
  copyFileSync(join(repo, 'secrets/secrets.nix'), join(dir, 'secrets/secrets.nix'));
  copyFileSync(join(repo, 'hosts/keys.nix'), join(dir, 'hosts/keys.nix'));
  writeFileSync(
    join(dir, 'agents/fleet.yaml'),
    `libvirtUri: test:///default\nstateDir: ${join(dir, 'state')}\n`,
  );
  writeFileSync(
    join(dir, 'agents/drago.yaml'),
    '# the primary agent\ngit: { name: Drago, email: drago@example.org }\n',
  );
  writeFileSync(join(dir, 'agents/luce.yaml'), 'git: { name: Luce, email: luce@example.org }\nsecrets: []\n');
  writeFileSync(join(dir, 'hosts/agents.json'), '{"agents":{"drago":{"secrets":[]},"luce":{"secrets":[]}}}');
  admin = keygen('admin');
  drago = keygen('drago');
  luce = keygen('luce');
  copyFileSync(`${admin}.pub`, join(dir, 'secrets/admins/alice.pub'));
  copyFileSync(`${drago}.pub`, join(dir, 'secrets/hosts/drago.pub'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fleet secrets', () => {
  it('add lists the secret in the agent YAML and encrypts stdin to the rule', () => {
    const r = fleet(['add', 'mail', '--agents', 'drago'], { input: 'hunter2\n' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/wrote secrets\/mail\.age for 2 recipient\(s\); listed for drago/);
    // A new list in the style of the shipped agents' files.
    expect(read('agents/drago.yaml')).toBe(
      '# the primary agent\ngit: { name: Drago, email: drago@example.org }\nsecrets: [mail]\n',
    );
    expect(JSON.parse(read('hosts/agents.json')).agents.drago.secrets).toEqual(['mail']);
    expect(ageDecrypt(admin, 'mail.age')).toBe('hunter2\n');
    expect(ageDecrypt(drago, 'mail.age')).toBe('hunter2\n');
    expect(ageDecrypt(luce, 'mail.age')).toBeUndefined();
  });

  it('add --json validates against its schema', () => {
    const before = [read('agents/drago.yaml'), read('hosts/agents.json')];
    const r = fleet(['add', 'token', '--agents', 'drago', '--json'], { input: 't0ken' });
    expect(expectSchema(r.stdout, 'secrets-add')).toMatchObject({
      ok: true,
      file: 'token.age',
      agents: ['drago'],
      recipients: 2,
    });
    expect(ageDecrypt(admin, 'token.age')).toBe('t0ken');
    // The cases below expect mail alone.
    rmSync(join(dir, 'secrets/token.age'));
    writeFileSync(join(dir, 'agents/drago.yaml'), before[0] ?? '');
    writeFileSync(join(dir, 'hosts/agents.json'), before[1] ?? '');
  });

  it('add refuses an existing secret or an unknown agent and writes nothing', () => {
    const before = [read('agents/drago.yaml'), read('hosts/agents.json'), read('secrets/mail.age')];
    const exists = fleet(['add', 'mail', '--agents', 'drago'], { input: 'x' });
    expect(exists.status).toBe(2);
    expect(exists.stderr).toMatch(
      /secrets\/mail\.age already exists; change it with: fleet secrets edit mail\.age/,
    );
    const unknown = fleet(['add', 'other', '--agents', 'drago,zed'], { input: 'x' });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/no agent named 'zed'/);
    expect([read('agents/drago.yaml'), read('hosts/agents.json'), read('secrets/mail.age')]).toEqual(before);
  });

  it('add writes the rule into a hand-written secrets.nix as one line, the rest of the file untouched', () => {
    const rules = read('secrets/secrets.nix');
    const luceYaml = read('agents/luce.yaml');
    // agenix README style: comments, a let, odd spacing; the agent's YAML a flow list with a comment.
    const handWritten = `# hand-written rules\nlet\n  alice = "${read('secrets/admins/alice.pub').trim()}";\nin\n{\n   "mail.age".publicKeys = [ alice ];   # kept as is\n\n   # end of rules\n}\n`;
    writeFileSync(join(dir, 'secrets/secrets.nix'), handWritten);
    writeFileSync(
      join(dir, 'agents/luce.yaml'),
      'git: { name: Luce, email: luce@example.org }\nsecrets: [ ]   # none yet\n',
    );
    try {
      const r = fleet(['add', 'byhand', '--agents', 'drago,luce'], { input: 'x\n' });
      expect(r.status, r.stderr).toBe(0);
      // alice, and drago's recorded host key (luce has none yet).
      expect(r.stdout).toMatch(/wrote secrets\/byhand\.age for 2 recipient\(s\); listed for drago, luce/);
      const after = read('secrets/secrets.nix');
      const entry =
        /\n {3}"byhand\.age"\.publicKeys = \[\n {6}"ssh-ed25519 [^"]+"\n {6}"ssh-ed25519 [^"]+"\n {3}\];\n/.exec(
          after,
        );
      expect(entry, after).not.toBeNull();
      expect(after.replace(entry?.[0] ?? '', '\n')).toBe(handWritten);
      expect(read('agents/luce.yaml')).toBe(
        'git: { name: Luce, email: luce@example.org }\nsecrets: [ byhand ]   # none yet\n',
      );
      expect(ageDecrypt(admin, 'byhand.age')).toBe('x\n');
      expect(ageDecrypt(drago, 'byhand.age')).toBe('x\n');
      expect(ageDecrypt(luce, 'byhand.age')).toBeUndefined();
    } finally {
      rmSync(join(dir, 'secrets/byhand.age'), { force: true });
      writeFileSync(join(dir, 'secrets/secrets.nix'), rules);
      writeFileSync(join(dir, 'agents/luce.yaml'), luceYaml);
      writeFileSync(join(dir, 'agents/drago.yaml'), read('agents/drago.yaml').replace(/\n {2}- byhand/, ''));
      writeFileSync(
        join(dir, 'hosts/agents.json'),
        '{"agents":{"drago":{"secrets":["mail"]},"luce":{"secrets":[]}}}',
      );
    }
  });

  it('add puts every file back when it cannot write the rule into secrets.nix', () => {
    const rules = read('secrets/secrets.nix');
    const before = [read('agents/luce.yaml'), read('hosts/agents.json')];
    // Rules built by an expression fleet cannot append to.
    const built = 'let r = { "mail.age".publicKeys = [ ]; }; in r\n';
    writeFileSync(join(dir, 'secrets/secrets.nix'), built);
    try {
      const r = fleet(['add', 'orphan', '--agents', 'luce'], { input: 'x' });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(
        /does not end with an attribute set.*"orphan\.age"\.publicKeys = \[ \.\.\. \];.*nothing was changed/,
      );
      expect([read('agents/luce.yaml'), read('hosts/agents.json'), read('secrets/secrets.nix')]).toEqual([
        ...before,
        built,
      ]);
      expect(spawnSync('test', ['-e', join(dir, 'secrets/orphan.age')]).status).not.toBe(0);
    } finally {
      writeFileSync(join(dir, 'secrets/secrets.nix'), rules);
    }
  });

  it('add without any admin key says where to put one, and changes nothing', () => {
    const before = [read('agents/luce.yaml'), read('hosts/agents.json')];
    const alice = join(dir, 'secrets/admins/alice.pub');
    const key = read('secrets/admins/alice.pub');
    rmSync(alice);
    try {
      // luce has no host key yet either: the rule has no recipient at all.
      const r = fleet(['add', 'nokey', '--agents', 'luce'], { input: 'x' });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/nokey\.age no recipients: no admin key .*nothing was changed/);
      expect(r.stderr).toContain('add your SSH public key as secrets/admins/<you>.pub');
      expect([read('agents/luce.yaml'), read('hosts/agents.json')]).toEqual(before);
      expect(spawnSync('test', ['-e', join(dir, 'secrets/nokey.age')]).status).not.toBe(0);
    } finally {
      writeFileSync(alice, key);
    }
  });

  it('edit runs $EDITOR on a private 0600 file, re-encrypts, and removes the file', () => {
    const log = join(dir, 'editor.log');
    const editor = `sh -c 'stat -c "%a %n" "$0" > ${log}; sed -i s/hunter2/swordfish/ "$0"'`;
    const r = fleet(['edit', 'secrets/mail.age', '-i', admin], { editor });
    expect(r.stderr).toBe('');
    const [mode, path] = readFileSync(log, 'utf8').trim().split(' ');
    expect(mode).toBe('600');
    expect(path).toMatch(/^\/dev\/shm\/fleet-secret-\w+\/mail$/);
    expect(spawnSync('test', ['-e', path ?? '']).status).not.toBe(0);
    expect(ageDecrypt(drago, 'mail.age')).toBe('swordfish\n');
  });

  // A real editor that holds the plaintext (vim keeps a .swp copy beside it) and never finishes:
  // `vim -es` waits for commands on its stdin, a pipe the test keeps open.
  const VIM = 'vim -es -u NONE';
  // Editors made of sh: one that dies of SIGINT while holding a backup copy, one that ignores
  // SIGTERM/SIGHUP (killed after fleet's grace period), one that crashes.
  const keepsCopy = `sh -c 'cp "$0" "$0~"; exec sleep 600'`;
  const ignoresTerm = `sh -c 'trap "" TERM HUP; cp "$0" "$0~"; while :; do sleep 0.2; done'`;

  async function interruptedEdit(editor: string, signal: NodeJS.Signals) {
    const before = read('secrets/mail.age');
    const shmBefore = new Set(readdirSync('/dev/shm'));
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, EDITOR: editor };
    const child = spawn('node', [cli, '--dir', dir, 'secrets', 'edit', 'mail', '-i', admin], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    // 'close', not 'exit': the stderr line asserted below may still be in the pipe when the process has exited.
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // The plaintext and the editor's copy of it exist before the signal: the test is not vacuous.
    let shmDir: string | undefined;
    // A bound on a hang: the CLI's start, the decryption and the editor's take seconds on a loaded machine.
    const deadline = Date.now() + 60_000;
    while (shmDir === undefined) {
      if (Date.now() > deadline) throw new Error(`the editor never opened the plaintext:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 25));
      shmDir = readdirSync('/dev/shm')
        .filter((d) => d.startsWith('fleet-secret-') && !shmBefore.has(d))
        .map((d) => join('/dev/shm', d))
        .find((d) => readdirSync(d).some((f) => f !== 'mail'));
    }
    expect(readFileSync(join(shmDir, 'mail'), 'utf8')).toBe('swordfish\n');
    child.kill(signal);
    const code = await exited;
    child.stdin.end();
    return { code, stderr, shmDir, before };
  }

  it.each([
    ['SIGTERM', VIM],
    ['SIGHUP', VIM],
    ['SIGINT', keepsCopy],
    ['SIGTERM', ignoresTerm],
  ] as const)(
    'edit wipes the plaintext when fleet gets %s while %s runs',
    async (signal, editor) => {
      const r = await interruptedEdit(editor, signal);
      expect(r.code).toBe(128 + constants.signals[signal]);
      expect(r.stderr).toContain(
        `interrupted by ${signal}: the decrypted copy was wiped, nothing was changed`,
      );
      expect(existsSync(r.shmDir)).toBe(false);
      expect(read('secrets/mail.age')).toBe(r.before);
    },
    120_000,
  );

  it('edit wipes the plaintext when the editor crashes', () => {
    const log = join(dir, 'crash.log');
    const crashes = `sh -c 'echo "$0" > ${log}; cp "$0" "$0~"; kill -SEGV $$'`;
    const before = read('secrets/mail.age');
    const r = fleet(['edit', 'mail', '-i', admin], { editor: crashes });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('exited with SIGSEGV; nothing was changed');
    const path = readFileSync(log, 'utf8').trim();
    expect(path).toMatch(/^\/dev\/shm\/fleet-secret-\w+\/mail$/);
    expect(existsSync(dirname(path))).toBe(false);
    expect(read('secrets/mail.age')).toBe(before);
  });

  it('edit without changes leaves the file byte-identical', () => {
    const before = read('secrets/mail.age');
    const r = fleet(['edit', 'mail', '-i', admin], { editor: 'true' });
    expect(r.stdout).toMatch(/mail\.age unchanged; not re-encrypted/);
    expect(read('secrets/mail.age')).toBe(before);
    const json = fleet(['edit', 'mail', '-i', admin, '--json'], { editor: 'true' });
    expect(expectSchema(json.stdout, 'secrets-edit')).toMatchObject({
      ok: true,
      file: 'mail.age',
      changed: false,
    });
  });

  it('list shows state, agents and recipients', () => {
    writeFileSync(
      join(dir, 'agents/luce.yaml'),
      'git: { name: Luce, email: luce@example.org }\nsecrets: [mail]\n',
    );
    writeFileSync(
      join(dir, 'hosts/agents.json'),
      '{"agents":{"drago":{"secrets":["mail"]},"luce":{"secrets":["mail"]}}}',
    );
    copyFileSync(`${luce}.pub`, join(dir, 'secrets/hosts/luce.pub'));
    const r = fleet(['list']);
    expect(r.stdout).toMatch(
      /^SECRET\s+STATE\s+AGENTS\s+RECIPIENTS\nmail\.age\s+stale\s+drago,luce\s+admin:alice,agent:drago,agent:luce\n$/,
    );
  });

  it('rekey --agent re-encrypts what the agent gets; a second run changes nothing', () => {
    const r = fleet(['rekey', '--agent', 'luce', '-i', admin]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/rekeyed {4}mail\.age\n1 rekeyed, 0 unchanged, 0 missing, 0 failed/);
    expect(ageDecrypt(luce, 'mail.age')).toBe('swordfish\n');
    const before = read('secrets/mail.age');
    expect(fleet(['rekey', '-i', admin]).stdout).toMatch(/0 rekeyed, 1 unchanged/);
    expect(read('secrets/mail.age')).toBe(before);
  });

  it('rekey reports a file it cannot decrypt, exits 1, and still does the others', () => {
    execFileSync('age', ['-R', `${drago}.pub`, '-o', join(dir, 'secrets/locked.age')], { input: 'x' });
    const locked = read('secrets/locked.age');
    // Make mail stale again so there is other work to do.
    rmSync(join(dir, 'secrets/hosts/luce.pub'));
    const r = fleet(['rekey', '--json', '-i', admin]);
    expect(r.status).toBe(1);
    const summary = expectSchema(r.stdout, 'secrets-rekey');
    expect(summary).toMatchObject({ ok: false, error: { code: 'failed' } });
    expect(summary.rekeyed).toEqual(['mail.age']);
    expect(summary.failed).toEqual([
      { file: 'locked.age', error: expect.stringMatching(/none of the 1 identities can decrypt it/) },
    ]);
    expect(read('secrets/locked.age')).toBe(locked);
    expect(ageDecrypt(luce, 'mail.age')).toBeUndefined();
  });

  it('without -i and without ~/.ssh keys there is a clear error', () => {
    const r = fleet(['rekey']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /no identity to decrypt with: pass -i FILE, set adminIdentity in agents\/fleet\.yaml, or create ~\/\.ssh\/id_ed25519/,
    );
  });

  it('agenix default identity ~/.ssh/id_ed25519 is used when -i is not given', () => {
    mkdirSync(join(home, '.ssh'));
    copyFileSync(admin, join(home, '.ssh/id_ed25519'));
    rmSync(join(dir, 'secrets/locked.age'));
    const r = fleet(['rekey', '--force']);
    expect(r.stdout).toMatch(/1 rekeyed, 0 unchanged, 0 missing, 0 failed/);
  });
  it('adminIdentity in fleet.yaml is what decrypts; a passphrase is asked on a terminal, refused off one', async () => {
    const locked = join(keys, 'admin-locked');
    copyFileSync(admin, locked);
    execFileSync('ssh-keygen', ['-q', '-p', '-P', '', '-N', 'c2 pass', '-f', locked]);
    const fleetYaml = read('agents/fleet.yaml');
    writeFileSync(join(dir, 'agents/fleet.yaml'), `${fleetYaml}adminIdentity: keys/admin-locked\n`);
    try {
      // ~/.ssh/id_ed25519 would decrypt: the refusal shows the configured key is the one used.
      const r = fleet(['rekey', '--force']);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`${locked} is passphrase-protected and there is no terminal to ask`);
      // On a terminal (script(1) gives it a pty): typed once the prompt is up, never echoed.
      const cmd = `node ${cli} --dir ${dir} secrets rekey --force`;
      const child = spawn('script', ['-qec', cmd, '/dev/null'], { env: { ...process.env, HOME: home } });
      let out = '';
      child.stdout.on('data', (d) => {
        if (!out.includes('passphrase for') && `${out}${d}`.includes('passphrase for'))
          child.stdin.write('c2 pass\r');
        out += d;
      });
      await new Promise((resolve) => child.on('close', resolve));
      const typed = { stdout: out };
      expect(typed.stdout).toContain(`passphrase for ${locked}:`);
      expect(typed.stdout).toMatch(/1 rekeyed, 0 unchanged, 0 missing, 0 failed/);
      expect(typed.stdout).not.toContain('c2 pass');
    } finally {
      writeFileSync(join(dir, 'agents/fleet.yaml'), fleetYaml);
    }
  });

  it('edit creates a secret that has a rule but no file yet', () => {
    writeFileSync(
      join(dir, 'hosts/agents.json'),
      '{"agents":{"drago":{"secrets":["mail","db"]},"luce":{"secrets":["mail"]}}}',
    );
    const r = fleet(['edit', 'db', '--json'], { editor: `sh -c 'printf s3cret > "$0"'` });
    expect(expectSchema(r.stdout, 'secrets-edit')).toMatchObject({ file: 'db.age', changed: true });
    expect(ageDecrypt(drago, 'db.age')).toBe('s3cret');
    expect(ageDecrypt(luce, 'db.age')).toBeUndefined();
  });
});
