import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  fingerprintSha256,
  parsePublicKeyLine,
  publicKeyLine,
  type SshPublicKey,
  type SshTarget,
} from '@agentfleet/core';
import { generateEd25519KeyPair } from '@agentfleet/secrets/openssh-key';
import { freePort, run, type Sshd, startSshd } from '@agentfleet/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectShell,
  HostKeyMismatchError,
  publicKeyOfPrivateKey,
  type ReadinessProgress,
  SshConnectError,
  SshReadinessError,
  waitForSsh,
} from './index.js';

// Against a real OpenSSH sshd on 127.0.0.1 (@agentfleet/testing startSshd).
describe('packages/ssh against OpenSSH sshd', () => {
  let sshd: Sshd;
  let other: Sshd; // a second server with a different host key
  let tmp: string;
  let hostKey: SshPublicKey;

  const target = (s: Sshd, hostKeyPolicy: SshTarget['hostKey']): SshTarget => ({
    who: 'fixture',
    host: s.host,
    port: s.port,
    user: s.user,
    privateKey: s.privateKey,
    hostKey: hostKeyPolicy,
  });
  const pinned = (s: Sshd, key = hostKey) => target(s, { kind: 'pinned', key, source: 'test known_hosts' });

  beforeAll(async () => {
    [sshd, other] = await Promise.all([startSshd(), startSshd()]);
    hostKey = parsePublicKeyLine(sshd.hostPublicKey);
    tmp = await mkdtemp(path.join(os.tmpdir(), 'agentfleet-ssh-'));
  });
  afterAll(async () => {
    await Promise.all([sshd?.stop(), other?.stop()]);
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('records the presented key on first contact', async () => {
    const recorded: SshPublicKey[] = [];
    const shell = await connectShell(
      target(sshd, { kind: 'first-contact', record: (k) => void recorded.push(k) }),
    );
    try {
      expect(recorded.map(publicKeyLine)).toEqual([sshd.hostPublicKey]);
      expect(publicKeyLine(shell.hostKey)).toBe(sshd.hostPublicKey);
    } finally {
      await shell.close();
    }
  });

  it('refuses a server whose key differs from the pin, naming both fingerprints', async () => {
    const err = await connectShell(pinned(other)).catch((e) => e);
    expect(err).toBeInstanceOf(HostKeyMismatchError);
    expect(err.message).toContain(
      `expected ssh-ed25519 ${fingerprintSha256(hostKey)} (pinned in test known_hosts)`,
    );
    expect(err.message).toContain(fingerprintSha256(parsePublicKeyLine(other.hostPublicKey)));
  });

  it('does not record a first-contact key when the login fails', async () => {
    const recorded: SshPublicKey[] = [];
    const wrongKey = generateEd25519KeyPair('wrong').privateKey;
    const err = await connectShell({
      ...target(sshd, { kind: 'first-contact', record: (k) => void recorded.push(k) }),
      privateKey: wrongKey,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(SshConnectError);
    expect(err.authFailed).toBe(true);
    expect(recorded).toEqual([]);
  });

  it('fails, instead of waiting forever, when the server closes the connection during the handshake', async () => {
    // A rebooting guest: its sshd sends the banner and goes away before the login (ssh2 reports only 'close').
    const server = net.createServer((socket) => socket.end('SSH-2.0-OpenSSH_9.2\r\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as net.AddressInfo;
      const err = await connectShell({ ...pinned(sshd), port }).catch((e) => e);
      expect(err).toBeInstanceOf(SshConnectError);
      expect(err.message).toContain('closed the connection before the login completed');
    } finally {
      server.close();
    }
  });

  describe('against a server holding ed25519 and rsa host keys, like a NixOS guest', () => {
    let multi: Sshd;
    beforeAll(async () => {
      multi = await startSshd({ hostKeyTypes: ['rsa', 'ed25519'] });
    });
    afterAll(() => multi?.stop());

    it('records the ed25519 key on first contact (the one /var/ssh/ssh_host_ed25519_key.pub holds)', async () => {
      const recorded: SshPublicKey[] = [];
      const shell = await connectShell(
        target(multi, { kind: 'first-contact', record: (k) => void recorded.push(k) }),
      );
      await shell.close();
      expect(recorded.map(publicKeyLine)).toEqual([multi.hostPublicKeys['ssh-ed25519']]);
    });

    it.each(['ssh-rsa', 'ssh-ed25519'])('asks for the pinned %s key and gets it', async (type) => {
      const key = parsePublicKeyLine(multi.hostPublicKeys[type] as string);
      const shell = await connectShell(pinned(multi, key));
      await shell.close();
      expect(publicKeyLine(shell.hostKey)).toBe(multi.hostPublicKeys[type]);
    });
  });

  describe('with a pinned session', () => {
    let shell: Awaited<ReturnType<typeof connectShell>>;
    beforeAll(async () => {
      shell = await connectShell(pinned(sshd));
    });
    afterAll(() => shell?.close());

    it('runs commands and returns their exit codes, stdout and stderr apart', async () => {
      const got: [string, string][] = [];
      const code = await shell.exec('echo out; echo err >&2; exit 3', (chunk, stream) =>
        got.push([stream, chunk]),
      );
      expect(code).toBe(3);
      expect(
        got
          .filter(([s]) => s === 'stdout')
          .map(([, c]) => c)
          .join(''),
      ).toBe('out\n');
      expect(
        got
          .filter(([s]) => s === 'stderr')
          .map(([, c]) => c)
          .join(''),
      ).toBe('err\n');
      expect(await shell.exec('true')).toBe(0);
    });

    it('streams output while the command still runs', async () => {
      // The command waits for a file that the test creates only after it has seen the first line.
      const gate = path.join(tmp, 'gate');
      const seen: string[] = [];
      const code = await shell.exec(
        `echo first; while [ ! -e ${gate} ]; do sleep 0.05; done; echo second`,
        (chunk) => {
          seen.push(chunk);
          if (chunk.includes('first') && !existsSync(gate)) void writeFile(gate, '');
        },
      );
      expect(code).toBe(0);
      expect(seen.join('')).toBe('first\nsecond\n');
    });

    it('uploads a directory tree with modes and symlinks, and reads files back', async () => {
      const src = path.join(tmp, 'flake');
      await mkdir(path.join(src, 'secrets/nested'), { recursive: true });
      await writeFile(path.join(src, 'flake.nix'), '{ outputs = _: { }; }\n');
      await writeFile(path.join(src, 'secrets/nested/a.age'), Buffer.from([0, 1, 2, 255]));
      await writeFile(path.join(src, 'run.sh'), '#!/bin/sh\necho ran\n');
      await chmod(path.join(src, 'run.sh'), 0o755);
      await symlink('flake.nix', path.join(src, 'link.nix'));
      const dest = path.join(tmp, 'uploaded/deep');
      await shell.uploadDir(src, dest);
      await shell.uploadDir(src, dest); // a second upload overwrites in place
      expect(await readFile(path.join(dest, 'flake.nix'), 'utf8')).toBe('{ outputs = _: { }; }\n');
      expect([...(await readFile(path.join(dest, 'secrets/nested/a.age')))]).toEqual([0, 1, 2, 255]);
      expect(await shell.readFile(path.join(dest, 'link.nix'))).toBe('{ outputs = _: { }; }\n');
      const out: string[] = [];
      expect(await shell.exec(`${path.join(dest, 'run.sh')}`, (c) => out.push(c))).toBe(0);
      expect(out.join('')).toBe('ran\n');
    });

    it('uploads single files into new directories', async () => {
      const local = path.join(tmp, 'one.txt');
      await writeFile(local, 'one');
      const remote = path.join(tmp, 'files/a/b/one.txt');
      await shell.upload([{ local, remote }]);
      expect(await shell.readFile(remote)).toBe('one');
    });

    it('reports a command killed by a signal as such, not as an exit code', async () => {
      await expect(shell.exec('kill -KILL $$')).rejects.toMatchObject({
        name: 'RemoteSignalError',
        signal: 'SIGKILL',
      });
    });

    it('says which file it could not read', async () => {
      await expect(shell.readFile('/nonexistent/x')).rejects.toThrow(/cannot read \/nonexistent\/x/);
    });
  });

  describe('waitForSsh', () => {
    const quick = {
      timeoutMs: 1_500,
      attemptTimeoutMs: 500,
      initialDelayMs: 50,
      maxDelayMs: 200,
      backoffFactor: 2,
    };

    it('passes all stages against a running server and returns a logged-in session', async () => {
      const progress: ReadinessProgress[] = [];
      const r = await waitForSsh(pinned(sshd), { onProgress: (p) => progress.push(p) });
      try {
        expect(r.banner).toMatch(/^SSH-2\.0-OpenSSH/);
        expect(progress.filter((p) => p.status === 'passed').map((p) => p.stage)).toEqual([
          'listening',
          'banner',
          'login',
        ]);
        expect(await r.shell.exec('true')).toBe(0);
      } finally {
        await r.shell.close();
      }
    });

    it('gives up in the listening stage when nothing listens', async () => {
      const port = await freePort();
      const progress: ReadinessProgress[] = [];
      const err = await waitForSsh(
        { ...pinned(sshd), port },
        { stages: { listening: quick }, onProgress: (p) => progress.push(p) },
      ).catch((e) => e);
      expect(err).toBeInstanceOf(SshReadinessError);
      expect(err.stage).toBe('listening');
      expect(err.message).toMatch(/stage 'listening' gave up .*ECONNREFUSED/);
      expect(progress.some((p) => p.stage === 'listening' && p.status === 'retrying')).toBe(true);
    });

    it.each([
      ['says nothing', (_s: net.Socket) => undefined, /no SSH banner arrived/],
      ['hangs up at once', (s: net.Socket) => s.destroy(), /closed before an SSH banner/],
      [
        'speaks HTTP',
        (s: net.Socket) => s.end(`HTTP/1.1 400 Bad Request\r\n${'x'.repeat(9000)}`),
        /not an SSH server/,
      ],
    ])('gives up in the banner stage when the port is open but %s', async (_what, onConnection, why) => {
      const server = net.createServer((s) => {
        s.on('error', () => undefined); // the client hangs up on us; that is the point
        onConnection(s);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as net.AddressInfo).port;
      try {
        const err = await waitForSsh({ ...pinned(sshd), port }, { stages: { banner: quick } }).catch(
          (e) => e,
        );
        expect(err).toBeInstanceOf(SshReadinessError);
        expect(err.stage).toBe('banner');
        expect(err.lastError).toMatch(why);
      } finally {
        server.close();
      }
    });

    it('notices the server through a later probe while an earlier one hangs in a forwarder', async () => {
      // Like QEMU's forwarder before the guest's network is up: the first connection is accepted and then held
      // silently; later ones reach sshd. A single probe would wait out its whole (here: minute-long) timeout.
      // Connection 1 is the listening stage's probe, 2 the first banner probe.
      const held: net.Socket[] = [];
      let connections = 0;
      const proxy = net.createServer((s) => {
        s.on('error', () => undefined);
        if (++connections === 2) return void held.push(s);
        const upstream = net.connect(sshd.port, sshd.host);
        upstream.on('error', () => s.destroy());
        s.pipe(upstream).pipe(s);
      });
      await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
      const port = (proxy.address() as net.AddressInfo).port;
      try {
        const r = await waitForSsh(
          { ...pinned(sshd), port },
          { stages: { banner: { timeoutMs: 120_000, attemptTimeoutMs: 60_000 } } },
        );
        await r.shell.close();
        expect(r.banner).toMatch(/^SSH-2\.0-OpenSSH/);
        expect(held[0]?.destroyed).toBe(false); // the stuck probe was still waiting when a later one passed
      } finally {
        for (const s of held) s.destroy();
        proxy.close();
      }
    });

    it('gets the banner through a forwarder that reaches sshd only once the client has spoken', async () => {
      // Like passt 2023-03-09 (Debian 12): the guest's side of a forwarded connection completes its handshake only
      // when the host side sends data, so a probe that waits silently for the banner never gets one.
      const proxy = net.createServer((s) => {
        s.on('error', () => undefined);
        s.once('data', (first) => {
          const upstream = net.connect(sshd.port, sshd.host);
          upstream.on('error', () => s.destroy());
          upstream.write(first);
          s.pipe(upstream).pipe(s);
        });
      });
      await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
      const port = (proxy.address() as net.AddressInfo).port;
      try {
        // Bounds that only bound a hang: a probe that waits silently never gets a banner here, however long it
        // waits, while a loaded machine can take longer than `quick`'s 500 ms for sshd to answer one that spoke.
        const r = await waitForSsh(
          { ...pinned(sshd), port },
          { stages: { banner: { ...quick, timeoutMs: 60_000, attemptTimeoutMs: 20_000 } } },
        );
        await r.shell.close();
        expect(r.banner).toMatch(/^SSH-2\.0-OpenSSH/);
      } finally {
        proxy.close();
      }
    });

    it('fails the login stage at once when the key is refused', async () => {
      const err = await waitForSsh(
        { ...pinned(sshd), privateKey: generateEd25519KeyPair('wrong').privateKey },
        { stages: { login: { timeoutMs: 600_000 } } },
      ).catch((e) => e);
      expect(err).toBeInstanceOf(SshReadinessError);
      expect(err.stage).toBe('login');
      expect(err.attempts).toBe(1);
      expect(err.lastError).toMatch(/login refused/);
    });

    it('stops waiting when aborted', async () => {
      const port = await freePort();
      const abort = new AbortController();
      const err = await waitForSsh(
        { ...pinned(sshd), port },
        {
          signal: abort.signal,
          stages: { listening: { timeoutMs: 600_000 } },
          onProgress: () => abort.abort(new Error('user interrupted')),
        },
      ).catch((e) => e);
      expect(err.message).toBe('user interrupted');
    });

    it('fails at once on a host-key mismatch instead of retrying', async () => {
      const progress: ReadinessProgress[] = [];
      const err = await waitForSsh(pinned(other), {
        stages: { login: { ...quick, timeoutMs: 600_000 } },
        onProgress: (p) => progress.push(p),
      }).catch((e) => e);
      expect(err).toBeInstanceOf(HostKeyMismatchError);
      expect(progress.filter((p) => p.stage === 'login')).toEqual([]);
    });
  });

  describe('key helpers agree with ssh-keygen', () => {
    it('fingerprints like ssh-keygen -lf', async () => {
      const out = await run('ssh-keygen', ['-lf', path.join(sshd.dir, 'host_ed25519.pub')]);
      expect(fingerprintSha256(hostKey)).toBe(out.split(' ')[1]);
    });

    it('derives the public key of a private key like ssh-keygen -y', async () => {
      expect(publicKeyLine(publicKeyOfPrivateKey(sshd.privateKey))).toBe(
        (await run('ssh-keygen', ['-y', '-f', sshd.privateKeyPath])).trim().split(' ').slice(0, 2).join(' '),
      );
    });

    it('generates OpenSSH ed25519 keys that ssh-keygen reads', async () => {
      const pair = generateEd25519KeyPair('agent-host');
      const file = path.join(tmp, 'generated');
      await writeFile(file, pair.privateKey, { mode: 0o600 });
      const derived = (await run('ssh-keygen', ['-y', '-f', file])).trim().split(' ').slice(0, 2).join(' ');
      expect(derived).toBe(publicKeyLine(pair.publicKey));
      expect(pair.privateKey).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----/);
    });
  });
});
