import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  completeStep,
  describeProgress,
  failStep,
  nextStep,
  PROVISION_STEPS,
  type ProvisionProgress,
  pendingProvisioning,
  rewindTo,
  StepOrderError,
} from './steps.js';

const T = '2026-11-22T19:00:00.000Z';

function through(step: (typeof PROVISION_STEPS)[number]): ProvisionProgress {
  let p: ProvisionProgress = {};
  for (const s of PROVISION_STEPS) {
    p = completeStep(p, s, T, s === 'hostkey' ? 'ssh-ed25519 AAAA' : undefined);
    if (s === step) break;
  }
  return p;
}

describe('provisioning state machine', () => {
  it('walks the steps in the seeds order', () => {
    expect(PROVISION_STEPS).toEqual([
      'disk',
      'defined',
      'booted',
      'phase1',
      'hostkey',
      'rekeyed',
      'phase2',
      'ready',
    ]);
    expect(nextStep({})).toBe('disk');
    expect(nextStep(through('booted'))).toBe('phase1');
    expect(nextStep(through('ready'))).toBeUndefined();
  });

  it('refuses to skip a step and treats a repeated step as done', () => {
    expect(() => completeStep(through('booted'), 'hostkey', T)).toThrow(StepOrderError);
    const p = through('phase2');
    expect(completeStep(p, 'booted', T)).toBe(p);
  });

  it('resumes provisioning after the last completed step', () => {
    expect(pendingProvisioning(through('booted'))).toEqual([
      'phase1',
      'hostkey',
      'rekeyed',
      'phase2',
      'ready',
    ]);
    expect(pendingProvisioning(through('rekeyed'))).toEqual(['phase2', 'ready']);
    expect(pendingProvisioning(through('ready'))).toEqual([]);
  });

  it('keeps completed steps when a step fails, and clears the failure once it succeeds', () => {
    const failed = failStep(through('phase1'), { step: 'hostkey', message: 'boom', logPath: '/l' }, T);
    expect(failed.done).toBe('phase1');
    expect(describeProgress(failed)).toBe('phase1, failed at hostkey');
    const ok = completeStep(failed, 'hostkey', T, 'ssh-ed25519 BBBB');
    expect(ok.failure).toBeUndefined();
    expect(ok.hostKey).toBe('ssh-ed25519 BBBB');
    expect(describeProgress(ok)).toBe('hostkey');
  });

  it('rewinds for --from, keeping the recorded host key unless the disk is redone', () => {
    const ready = through('ready');
    const fromPhase1 = rewindTo(ready, 'phase1', T);
    expect(fromPhase1.done).toBe('booted');
    expect(fromPhase1.hostKey).toBe('ssh-ed25519 AAAA');
    expect(rewindTo(ready, 'disk', T)).toEqual({ updatedAt: T });
    // Rewinding to a step not reached yet changes nothing.
    const early = through('defined');
    expect(rewindTo(early, 'phase2', T)).toBe(early);
  });

  it('after any rewind, the pending steps are exactly the steps from there on', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PROVISION_STEPS),
        fc.constantFrom(...PROVISION_STEPS),
        (reached, from) => {
          const p = rewindTo(through(reached), from, T);
          const expectDone = Math.min(PROVISION_STEPS.indexOf(reached), PROVISION_STEPS.indexOf(from) - 1);
          expect(p.done === undefined ? -1 : PROVISION_STEPS.indexOf(p.done)).toBe(expectDone);
        },
      ),
    );
  });
});
