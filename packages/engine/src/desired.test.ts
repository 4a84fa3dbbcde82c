// Where an agent's domain puts its disk and network, by host: the parts of desiredAgents that depend on the URI.
import { agentYaml, fleetRun } from '@agentfleet/testing/engine-deps';
import { describe, expect, it } from 'vitest';
import { agentDomainInput } from './desired.js';

const REMOTE = 'qemu+libssh2://root@10.0.0.2/system';
const choice = { domainType: 'qemu' as const, portForward: 'hostfwd' as const };
const allocation = { sshPort: 2223, spicePort: 5900, cores: [1], mac: '52:54:00:00:00:01' };

describe('agentDomainInput by host', () => {
  const run = fleetRun({ drago: agentYaml('drago') });
  const drago = run.fleet.agents[0];
  if (!drago) throw new Error('no agent');

  it('keeps a local agent disk in the state dir, and a remote one in the fleet pool on its host', () => {
    expect(agentDomainInput('/state', drago, allocation, choice, [], {}, 'f1').diskPath).toBe(
      '/state/agent-drago.qcow2',
    );
    const remote = { ...drago, libvirtUri: REMOTE, network: 'open' as const };
    expect(agentDomainInput('/state', remote, allocation, choice, [], {}, 'f1').diskPath).toBe(
      '/var/lib/libvirt/images/agentfleet-f1/agent-drago.qcow2',
    );
    // Without a fleet id there is no pool name yet: an error saying what to run, never a guessed path.
    expect(() => agentDomainInput('/state', remote, allocation, choice, [])).toThrow(
      /run 'fleet allocate' first/,
    );
  });

  it("leaves a remote agent nothing in the state dir: console log beside libvirt's on its host, display socket to libvirt", () => {
    const local = agentDomainInput('/state', drago, allocation, choice, [], {}, 'f1');
    expect(local).toMatchObject({
      spiceSocket: '/state/run/agent-drago/spice.sock',
      consoleLogPath: '/state/agent-drago.console.log',
    });
    const remote = { ...drago, libvirtUri: REMOTE, network: 'none' as const };
    const input = agentDomainInput('/state', remote, allocation, choice, [], {}, 'f1');
    expect(input.spiceSocket).toBeUndefined();
    expect(input.consoleLogPath).toBe('/var/log/libvirt/qemu/agent-drago.console.log');
  });

  it("puts a remote isolated agent's passt socket in the fleet's run dir on its host, named by the fleet id", () => {
    const placed = { ...drago, libvirtUri: REMOTE, network: 'isolated' as const };
    expect(agentDomainInput('/state', placed, allocation, choice, [], {}, 'f1').network).toEqual({
      mode: 'isolated',
      socketPath: '/run/agentfleet/f1/run/agent-drago/passt.sock',
    });
    expect(agentDomainInput('/state', drago, allocation, choice, [], {}, 'f1').network).toEqual({
      mode: 'isolated',
      socketPath: '/state/run/agent-drago/passt.sock',
    });
    expect(() => agentDomainInput('/state', placed, allocation, choice, [])).toThrow(
      /run 'fleet allocate' first/,
    );
  });
});
