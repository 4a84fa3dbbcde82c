import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseProvisionProgress } from './progress-schema.js';
import {
  AGENT_PHASES,
  agentPhase,
  completeStep,
  failStep,
  nextStep,
  PROVISIONING_STEPS,
  type ProvisioningStep,
  type ProvisionProgress,
  pendingSteps,
  rewindTo,
  StepOrderError,
} from './steps.js';

const T = '2026-11-22T19:00:00.000Z';
const KEY = 'ssh-ed25519 AAAA';

function through(step: ProvisioningStep | undefined): ProvisionProgress {
  let p: ProvisionProgress = {};
  if (step === undefined) return p;
  for (const s of PROVISIONING_STEPS) {
    p = completeStep(p, s, T, s === 'hostkey' ? KEY : undefined);
    if (s === step) break;
  }
  return p;
}

describe('provisioning state machine', () => {
  it('walks the seeds flow in order, bring-up first', () => {
    expect(AGENT_PHASES).toEqual([
      'declared',
      'disk',
      'defined',
      'started',
      'ssh-ready',
      'phase1',
      'hostkey',
      'rekeyed',
      'phase2',
      'ready',
    ]);
    expect(nextStep({})).toBe('phase1');
    expect(nextStep(through('hostkey'))).toBe('rekeyed');
    expect(nextStep(through('ready'))).toBeUndefined();
  });

  it('refuses to skip a step and treats a repeated step as done', () => {
    expect(() => completeStep({}, 'hostkey', T)).toThrow(StepOrderError);
    const p = through('phase2');
    expect(completeStep(p, 'phase1', T)).toBe(p);
  });

  it('resumes after the last completed step', () => {
    expect(pendingSteps({})).toEqual(['phase1', 'hostkey', 'rekeyed', 'phase2', 'ready']);
    expect(pendingSteps(through('rekeyed'))).toEqual(['phase2', 'ready']);
    expect(pendingSteps(through('ready'))).toEqual([]);
  });

  it('keeps completed steps when a step fails, and clears the failure once it succeeds', () => {
    const failed = failStep(through('phase1'), { step: 'hostkey', message: 'boom', logPath: '/l' }, T);
    expect(failed.done).toBe('phase1');
    expect(agentPhase('ssh-ready', failed)).toBe('phase1');
    const ok = completeStep(failed, 'hostkey', T, 'ssh-ed25519 BBBB');
    expect(ok.failure).toBeUndefined();
    expect(ok.hostKey).toBe('ssh-ed25519 BBBB');
    expect(agentPhase('ssh-ready', ok)).toBe('hostkey');
  });

  it('names every state in one vocabulary: bring-up phases until provisioning finished a step', () => {
    expect(agentPhase(undefined, undefined)).toBe('declared');
    expect(agentPhase('disk', undefined)).toBe('disk');
    expect(agentPhase('started', undefined)).toBe('started');
    expect(agentPhase('ssh-ready', {})).toBe('ssh-ready');
    expect(agentPhase('ssh-ready', failStep({}, { step: 'phase1', message: 'x' }, T))).toBe('ssh-ready');
    expect(agentPhase('ssh-ready', through('ready'))).toBe('ready');
  });

  it('rewinds for --from, keeping the recorded host key', () => {
    const fromPhase1 = rewindTo(through('ready'), 'phase1', T);
    expect(fromPhase1).toEqual({ hostKey: KEY, updatedAt: T });
    expect(rewindTo(through('ready'), 'rekeyed', T)).toEqual({ done: 'hostkey', hostKey: KEY, updatedAt: T });
    const early = through('phase1');
    expect(rewindTo(early, 'phase2', T)).toBe(early);
  });

  it('after any rewind, the pending steps are exactly the steps from there on (or from the first not done)', () => {
    const reachable = [undefined, ...PROVISIONING_STEPS] as const;
    fc.assert(
      fc.property(fc.constantFrom(...reachable), fc.constantFrom(...PROVISIONING_STEPS), (reached, from) => {
        const before = pendingSteps(through(reached));
        const after = pendingSteps(rewindTo(through(reached), from, T));
        const fromOn = PROVISIONING_STEPS.slice(PROVISIONING_STEPS.indexOf(from));
        expect(after).toEqual(before.length > fromOn.length ? before : fromOn);
      }),
    );
  });
});

describe('stored progress', () => {
  it('round-trips through JSON and rejects an unknown step', () => {
    const p = failStep(through('rekeyed'), { step: 'phase2', message: 'x', logPath: '/l' }, T);
    expect(parseProvisionProgress(JSON.parse(JSON.stringify(p)), 'drago')).toEqual(p);
    expect(parseProvisionProgress(undefined, 'drago')).toEqual({});
    expect(() => parseProvisionProgress({ done: 'phase3' }, 'drago')).toThrow(
      /agents\.drago\.provision\.done/,
    );
  });
});
