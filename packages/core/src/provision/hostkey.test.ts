import { describe, expect, it } from 'vitest';
import { checkHostKeyCapture, HostKeyFormatError, keyFromWire, parsePublicKeyLine } from './hostkey.js';

// Made with `ssh-keygen -t ed25519`.
const A = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIt6iiHS6FNfAqLSQPp7GfEyzudAlC/LkGwONhDPj/y5';
const B = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKjTd7MjFA0kjSWqSR1fEeXtObJ/XR7s+Dt2j07OIjyA';

const wire = (line: string) => Uint8Array.from(Buffer.from(line.split(' ')[1] as string, 'base64'));

describe('host key parsing', () => {
  it('reads .pub lines with comments and wire keys to the same key', () => {
    expect(parsePublicKeyLine(`${A} root@agent-drago\n`)).toEqual(keyFromWire(wire(A)));
  });

  it('rejects a line whose blob does not encode the named type', () => {
    const rsaNamed = A.replace('ssh-ed25519', 'ssh-rsa');
    expect(() => parsePublicKeyLine(rsaNamed)).toThrow(HostKeyFormatError);
    expect(() => parsePublicKeyLine('ssh-ed25519 !!!')).toThrow(HostKeyFormatError);
    expect(() => parsePublicKeyLine('')).toThrow(HostKeyFormatError);
  });
});

describe('host key capture check', () => {
  const base = { agent: 'drago', path: '/var/ssh/ssh_host_ed25519_key.pub', acceptChange: false };

  it('accepts the key the server proved in the handshake', () => {
    const r = checkHostKeyCapture({ ...base, fileLine: `${A} root@vm`, handshake: keyFromWire(wire(A)) });
    expect(r).toEqual({ ok: true, key: parsePublicKeyLine(A), changed: false });
  });

  it('refuses a key file that differs from the handshake key', () => {
    const r = checkHostKeyCapture({ ...base, fileLine: A, handshake: keyFromWire(wire(B)) });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toBe('handshake-mismatch');
      expect(r.message).toContain('did not prove');
    }
  });

  it('refuses to replace a recorded key without the explicit confirmation', () => {
    const evidence = { ...base, fileLine: B, handshake: keyFromWire(wire(B)), recorded: A };
    const refused = checkHostKeyCapture(evidence);
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.reason).toBe('changed');
      expect(refused.message).toContain('fleet provision drago --rekey --yes');
    }
    expect(checkHostKeyCapture({ ...evidence, acceptChange: true })).toMatchObject({
      ok: true,
      changed: true,
    });
  });

  it('reports a malformed key file', () => {
    const r = checkHostKeyCapture({ ...base, fileLine: 'garbage', handshake: keyFromWire(wire(A)) });
    expect(r).toMatchObject({ ok: false, reason: 'malformed' });
  });
});
