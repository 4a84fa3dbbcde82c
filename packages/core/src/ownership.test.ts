import { describe, expect, it } from 'vitest';
import { domainMetadataOf, domainXml } from './domain-xml.js';
import { agentArgumentProblem } from './names.js';
import { describeOwner, domainOwner } from './ownership.js';

const xmlOf = (fleet?: { id: string; dir: string; stateDir: string }) =>
  domainXml({
    agent: { name: 'alpha', memoryMiB: 256, vcpus: 1 },
    domainName: 'b-alpha',
    ...(fleet && { fleet }),
    allocation: { sshPort: 2223, spicePort: 5900, cores: [1], mac: '52:54:00:00:00:01' },
    domainType: 'qemu',
    portForward: 'hostfwd',
    diskPath: '/s/agent-alpha.qcow2',
    consoleLogPath: '/s/agent-alpha.console.log',
  });

describe('domain ownership', () => {
  const a = { id: 'fleet-aaaa-0001', dir: '/repos/a', stateDir: '/var/a' };
  it('the metadata carries the fleet, its dir and state dir; the name takes the prefix', () => {
    const xml = xmlOf(a);
    expect(xml).toContain('<name>b-alpha</name>');
    expect(domainMetadataOf(xml)).toMatchObject({ agent: 'alpha', fleet: a });
  });
  it('is ours only with our id; another fleet is named by its dirs; no id is nobody we know', () => {
    expect(domainOwner(domainMetadataOf(xmlOf(a)), a.id)).toEqual({ kind: 'ours', agent: 'alpha' });
    const other = domainOwner(domainMetadataOf(xmlOf(a)), 'fleet-bbbb-0002');
    expect(other.kind).toBe('fleet');
    if (other.kind === 'ours') throw new Error('unreachable');
    expect(describeOwner(other)).toBe(
      'another fleet (id fleet-aaaa-0001, fleet dir /repos/a, state dir /var/a)',
    );
    const legacy = domainOwner(domainMetadataOf(xmlOf()), a.id);
    expect(legacy).toEqual({ kind: 'unknown' });
    expect(domainOwner(undefined, a.id)).toEqual({ kind: 'unknown' });
  });
  it('the spec hash ignores who owns the domain', () => {
    expect(domainMetadataOf(xmlOf(a))?.specHash).toBe(domainMetadataOf(xmlOf())?.specHash);
  });
});

describe('agent names on the command line', () => {
  it.each(['../../../../tmp/x', 'a/b', '..', '.', 'a\\b', 'x..y'])('%s is a path, not a name', (n) => {
    expect(agentArgumentProblem(n)).toMatch(/is a path, not an agent name/);
  });
  it('checks plain names like agents/ does', () => {
    expect(agentArgumentProblem('alpha')).toBeUndefined();
    expect(agentArgumentProblem('Alpha')).toMatch(/not a valid agent name/);
    expect(agentArgumentProblem('fleet')).toMatch(/reserved/);
  });
});
