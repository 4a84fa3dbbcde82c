import { describe, expect, it } from 'vitest';
import { parsePublicKeyLine } from '../provision/hostkey.js';
import { fingerprintSha256 } from './fingerprint.js';
import { findKnownHost, knownHostsLine, renderKnownHosts } from './known-hosts.js';
import { checkHostKeyPin } from './pin.js';
import { renderSshConfig, SshConfigValueError } from './ssh-config.js';

// Two keys made with ssh-keygen; the fingerprints are what `ssh-keygen -lf` printed for them.
const keyA = parsePublicKeyLine(
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDasCKRw3HqU48AdiooggnMouHReh7tA9CD4rcXt4AsV x',
);
const fpA = 'SHA256:v7ek8ZuqO6vBkh3xN5VZA7ftGG5i7a8aM4fL0zYoHI8';
const keyB = parsePublicKeyLine(
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBmLPiPqml8QNGp87gWLE6Uofg54OBpkDLyEY/7Zq4Mn y',
);
const fpB = 'SHA256:mguuqTLzGtKmy7s5SCchaFYBluAoeTLG4xfY5Xhll8Q';

describe('fingerprintSha256', () => {
  it('matches ssh-keygen -lf', () => {
    expect(fingerprintSha256(keyA)).toBe(fpA);
    expect(fingerprintSha256(keyB)).toBe(fpB);
  });
});

describe('checkHostKeyPin', () => {
  const base = { who: 'drago', address: '127.0.0.1:2222', presented: keyA };
  it('is first contact without a pin', () => {
    expect(checkHostKeyPin(base)).toEqual({ kind: 'first-contact' });
  });
  it('matches the pinned key', () => {
    expect(checkHostKeyPin({ ...base, pinned: keyA })).toEqual({ kind: 'match' });
  });
  it('refuses another key naming who, both fingerprints, the pin file and the fix', () => {
    const r = checkHostKeyPin({ ...base, pinned: keyB, source: '/root/.agentvms/known_hosts' });
    expect(r.kind).toBe('mismatch');
    const message = r.kind === 'mismatch' ? r.message : '';
    expect(message).toContain('drago (127.0.0.1:2222)');
    expect(message).toContain(`expected ssh-ed25519 ${fpB} (pinned in /root/.agentvms/known_hosts)`);
    expect(message).toContain(`presented ssh-ed25519 ${fpA}`);
    expect(message).toContain('fleet provision drago --rekey --yes');
  });
});

describe('known_hosts', () => {
  it('writes bracketed host:port patterns, bare hosts on port 22', () => {
    expect(knownHostsLine({ host: '127.0.0.1', port: 2222, key: keyA })).toBe(
      `[127.0.0.1]:2222 ssh-ed25519 ${keyA.blob}`,
    );
    expect(knownHostsLine({ host: 'vmhost', port: 22, key: keyA })).toBe(`vmhost ssh-ed25519 ${keyA.blob}`);
  });

  it('renders a stable file that findKnownHost reads back', () => {
    const text = renderKnownHosts([
      { host: '127.0.0.1', port: 2223, key: keyB },
      { host: '127.0.0.1', port: 2222, key: keyA },
    ]);
    expect(text.split('\n').filter((l) => l.startsWith('['))).toEqual([
      `[127.0.0.1]:2222 ssh-ed25519 ${keyA.blob}`,
      `[127.0.0.1]:2223 ssh-ed25519 ${keyB.blob}`,
    ]);
    expect(findKnownHost(text, '127.0.0.1', 2222)).toEqual(keyA);
    expect(findKnownHost(text, '127.0.0.1', 2223)).toEqual(keyB);
    expect(findKnownHost(text, '127.0.0.1', 2224)).toBeUndefined();
  });

  it('finds a host among comma-separated patterns', () => {
    expect(
      findKnownHost(
        `a,[127.0.0.1]:2222 ${knownHostsLine({ host: 'x', port: 22, key: keyB }).slice(2)}\n`,
        '127.0.0.1',
        2222,
      ),
    ).toEqual(keyB);
  });
});

describe('renderSshConfig', () => {
  it('writes one strict block per agent, sorted by alias', () => {
    const text = renderSshConfig('/root/.agentvms/known_hosts', [
      { alias: 'luce', hostName: '127.0.0.1', port: 2223, user: 'root' },
      {
        alias: 'drago',
        hostName: '127.0.0.1',
        port: 2222,
        user: 'agent',
        identityFile: '/root/.ssh/id_ed25519',
      },
    ]);
    expect(text).toBe(
      [
        '# Written by fleet. Use: ssh -F <this file> <agent>',
        '',
        'Host drago',
        '  HostName 127.0.0.1',
        '  Port 2222',
        '  User agent',
        '  IdentityFile /root/.ssh/id_ed25519',
        '  IdentitiesOnly yes',
        '  UserKnownHostsFile /root/.agentvms/known_hosts',
        '  StrictHostKeyChecking yes',
        '  GlobalKnownHostsFile /dev/null',
        '  ServerAliveInterval 5',
        '  ServerAliveCountMax 3',
        '',
        'Host luce',
        '  HostName 127.0.0.1',
        '  Port 2223',
        '  User root',
        '  UserKnownHostsFile /root/.agentvms/known_hosts',
        '  StrictHostKeyChecking yes',
        '  GlobalKnownHostsFile /dev/null',
        '  ServerAliveInterval 5',
        '  ServerAliveCountMax 3',
        '',
      ].join('\n'),
    );
  });

  it('quotes paths with spaces and doubles % so ssh does not expand it', () => {
    const text = renderSshConfig('/home/a b/.agentvms/known_hosts', [
      { alias: 'drago', hostName: '127.0.0.1', port: 2222, user: 'root', identityFile: '/keys/100%/id' },
    ]);
    expect(text).toContain('  UserKnownHostsFile "/home/a b/.agentvms/known_hosts"');
    expect(text).toContain('  IdentityFile /keys/100%%/id');
  });

  it('rejects values that would inject options', () => {
    expect(() =>
      renderSshConfig('/k', [
        { alias: 'drago', hostName: '127.0.0.1', port: 1, user: 'root\nProxyCommand x' },
      ]),
    ).toThrow(SshConfigValueError);
    expect(() => renderSshConfig('/k', [{ alias: 'a b', hostName: 'h', port: 1, user: 'root' }])).toThrow(
      /Host alias/,
    );
  });
});
