import { describe, expect, it } from 'vitest';
import { adoptAllocation } from './adopt.js';
import type { AgentSpec } from './model.js';
import { normalizeAgent, normalizeFleet } from './normalize.js';

const config = normalizeFleet({
  sshPorts: { start: 2223, end: 2230 },
  spicePorts: { start: 5900, end: 5910 },
});
const agent = (extra: Partial<AgentSpec> = {}): AgentSpec => ({
  ...normalizeAgent({ vcpus: 2, git: { email: 'h@x.org' } }, 'hand', 'agents/hand.yaml', config),
  ...extra,
});
const current = { sshPort: 2224, spicePort: 5901, cores: [1, 2], mac: '52:54:00:00:00:09' };
const others = {
  sameHost: [{ sshPort: 2223, spicePort: 5900, cores: [3], mac: '52:54:00:00:00:01' }],
  allMacs: ['52:54:00:00:00:01'],
};
const found = {
  sshPort: 2228,
  spicePort: 5908,
  cores: [4, 5],
  mac: '52:54:00:AA:BB:CC',
  disk: '/vm/hand.qcow2',
};
const adopt = (over: Partial<typeof found> = {}, a = agent()) =>
  adoptAllocation({
    agent: a,
    config,
    found: { ...found, ...over },
    current,
    others,
    defaultDisk: '/s/agent-hand.qcow2',
  });

describe('adoptAllocation', () => {
  it("keeps everything of the domain's that fits, and records its disk", () => {
    const r = adopt();
    expect(r.allocation).toEqual({
      sshPort: 2228,
      spicePort: 5908,
      cores: [4, 5],
      mac: '52:54:00:aa:bb:cc',
      disk: '/vm/hand.qcow2',
    });
    expect(r.fields.every((f) => f.why === undefined)).toBe(true);
  });
  it('gives the ledger value instead, with the reason, for what does not fit', () => {
    const r = adopt({ sshPort: 2300, spicePort: 5900, cores: [0, 1], mac: '02:00:00:00:00:01' });
    expect(r.allocation).toMatchObject({
      sshPort: 2224,
      spicePort: 5901,
      cores: [1, 2],
      mac: '52:54:00:00:00:09',
    });
    const why = Object.fromEntries(r.fields.map((f) => [f.field, f.why]));
    expect(why).toEqual({
      sshPort: "outside the fleet's SSH range 2223-2230",
      spicePort: 'another agent of this fleet has it',
      cores: 'a pinned core is reserved for the host (fleet.yaml reservedCores)',
      mac: 'fleet MACs are 52:54:00:xx:xx:xx',
      disk: undefined,
    });
  });
  it("the agent's YAML wins over the domain; a disk where fleet would put it is not recorded", () => {
    const r = adopt({ disk: '/s/agent-hand.qcow2', cores: [4] }, agent({ sshPort: 2225 }));
    expect(r.allocation.sshPort).toBe(2224);
    expect(r.fields.find((f) => f.field === 'sshPort')?.why).toBe('agents/hand.yaml sets ports.ssh: 2225');
    expect(r.fields.find((f) => f.field === 'cores')?.why).toBe('1 pinned core(s) for 2 vCPU(s)');
    expect(r.allocation.disk).toBeUndefined();
  });
});
