import { describe, expect, it } from 'vitest';
import { parsePublicKeyLine } from '../provision/hostkey.js';
import { HostSshError, hostSshOfUri, isLocalUri, parseSsListeners } from './host-ssh.js';
import { knownHostsLine } from './known-hosts.js';
import { renderSshConfig } from './ssh-config.js';

describe('remote libvirt hosts over SSH', () => {
  it('takes the login from a qemu+ssh URI, none for a local one', () => {
    expect(isLocalUri('qemu:///system')).toBe(true);
    expect(hostSshOfUri('qemu:///system')).toBeUndefined();
    expect(hostSshOfUri('qemu+ssh://root@10.216.0.2/system?keyfile=/tmp/k%20ey')).toEqual({
      uri: 'qemu+ssh://root@10.216.0.2/system?keyfile=/tmp/k%20ey',
      host: '10.216.0.2',
      port: 22,
      user: 'root',
      identityFile: '/tmp/k ey',
    });
    expect(hostSshOfUri('qemu+ssh://[fd00::2]:2200/session')).toMatchObject({ host: 'fd00::2', port: 2200 });
    expect(hostSshOfUri('qemu+ssh://h/session')).not.toHaveProperty('user');
    expect(hostSshOfUri('qemu+libssh://r@h/system?known_hosts=/t/kh')).toMatchObject({
      user: 'r',
      knownHostsFile: '/t/kh',
    });
  });

  it('refuses a remote URI without an SSH transport, saying why', () => {
    expect(() => hostSshOfUri('qemu+tls://h/system')).toThrow(HostSshError);
    expect(() => hostSshOfUri('qemu+tcp://h/system')).toThrow(/use a qemu\+ssh:\/\/ URI/);
  });

  it('reads listening ports from ss -Htln (IPv4, IPv6, any address)', () => {
    const ss = [
      'LISTEN 0      128        10.216.0.2:22        0.0.0.0:*',
      'LISTEN 0      1           127.0.0.1:42000     0.0.0.0:*',
      'LISTEN 0      4096             [::]:5900         [::]:*',
      'LISTEN 0      128    [::ffff:127.0.0.1]:42000  *:*',
      '',
    ].join('\n');
    expect(parseSsListeners(ss)).toEqual([22, 5900, 42000]);
  });

  it('ssh_config jumps through the host, the agent key filed under its own alias', () => {
    const text = renderSshConfig('/s/known_hosts', [
      {
        alias: 'bee',
        hostName: '127.0.0.1',
        port: 42000,
        user: 'admin',
        proxyJump: 'libvirt-host-10.216.0.2',
        hostKeyAlias: 'fleet-agent-bee',
      },
      {
        alias: 'libvirt-host-10.216.0.2',
        hostName: '10.216.0.2',
        port: 22,
        user: 'root',
        identityFile: '/k',
      },
    ]);
    expect(text).toContain(
      'Host bee\n  HostName 127.0.0.1\n  Port 42000\n  User admin\n  ProxyJump libvirt-host-10.216.0.2\n  HostKeyAlias fleet-agent-bee\n',
    );
    expect(text).toMatch(
      /Host libvirt-host-10\.216\.0\.2\n {2}HostName 10\.216\.0\.2\n {2}Port 22[\s\S]*StrictHostKeyChecking yes/,
    );
    const key = parsePublicKeyLine(
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl',
    );
    expect(knownHostsLine({ host: '127.0.0.1', port: 42000, key, alias: 'fleet-agent-bee' })).toMatch(
      /^fleet-agent-bee ssh-ed25519 /,
    );
  });
});
