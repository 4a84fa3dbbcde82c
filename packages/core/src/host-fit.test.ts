import { fleetOf } from '@agentfleet/testing/fleets';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from './diagnostics.js';
import { hostFitDiagnostics } from './host-fit.js';

describe('hostFitDiagnostics', () => {
  it('flags explicit cores the host lacks and exclusive vCPUs beyond unreserved cores', () => {
    const fleet = fleetOf({ a: 'vcpus: 2\ncores: [1, 4]', b: 'vcpus: 4', c: 'vcpus: 4\nshareCores: true' });
    expect(hostFitDiagnostics(fleet, { uri: 'qemu:///session', cpus: 4 }).map(formatDiagnostic)).toEqual([
      'agents/a.yaml:3:12: cores.1: core 4 of agent a does not exist on host qemu:///session (4 cpus: 0-3)',
      'agents/b.yaml:2:8: vcpus: agent b needs 4 exclusive core(s) but host qemu:///session has only 3 unreserved (set shareCores: true to share)',
    ]);
    expect(hostFitDiagnostics(fleet, { uri: 'qemu:///session', cpus: 8 })).toEqual([]);
    expect(hostFitDiagnostics(fleet, { uri: 'qemu+ssh://elsewhere/session', cpus: 1 })).toEqual([]);
  });
});
