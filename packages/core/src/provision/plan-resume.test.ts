import { describe, expect, it } from 'vitest';
import { computePlan } from '../plan/compute.js';
import type { ActualAgent, DesiredAgent } from '../plan/types.js';

// The plan's side of resuming provisioning: a running, SSH-ready agent whose provisioning did
// not reach `ready` gets a provision step (and only that), a provisioned one gets nothing.
const base = { path: '/img/base.qcow2', size: 100, mtimeMs: 1, headSha256: 'aa' };
const resources = { memory: '512 MiB', vcpus: '1' };
const drago: DesiredAgent = {
  name: 'drago',
  domain: 'agent-drago',
  uri: 'qemu:///session',
  specHash: 'hash-1',
  xml: '<domain/>',
  resources,
  disk: { path: '/s/agent-drago.qcow2', mode: 'overlay', base: base.path, baseIdentity: base },
  sshPort: 2223,
  spicePort: 5900,
  cores: [1],
  consoleLog: '/s/agent-drago.console.log',
  autostart: false,
};
const running = (provisioned: boolean): ActualAgent => ({
  name: 'drago',
  domain: { uuid: 'u', state: 'running', specHash: 'hash-1', resources, autostart: false },
  disk: { exists: true, backingFile: base.path },
  phase: 'ssh-ready',
  recordedBase: base,
  hostKey: 'ssh-ed25519 AAAA',
  provisioned,
});
const plan = (a: ActualAgent, provision: boolean) =>
  computePlan({ goal: 'up', desired: [drago], actual: [a], provision }).actions[0];

describe('plan: resuming provisioning', () => {
  it('resumes unfinished provisioning on a running agent', () => {
    const action = plan(running(false), true);
    expect(action?.steps).toEqual(['provision']);
    expect(action?.reasons).toContain('provisioning not finished');
  });

  it('does nothing for a provisioned agent, or when provisioning is not wired', () => {
    expect(plan(running(true), true)?.steps).toEqual([]);
    expect(plan(running(false), false)?.steps).toEqual([]);
  });
});
