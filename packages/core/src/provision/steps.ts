// The per-agent provisioning state machine: the seeds' deployment flow as an ordered list of
// steps, the record of how far an agent got, and which steps a run still has to do.

/**
 * All steps, in order. The first three are the engine's bring-up, recorded in its own phase
 * field (see `bringUpStep`); the rest are provisioning, recorded in `ProvisionProgress`.
 */
export const PROVISION_STEPS = [
  'disk',
  'defined',
  'booted',
  'phase1',
  'hostkey',
  'rekeyed',
  'phase2',
  'ready',
] as const;

export type ProvisionStep = (typeof PROVISION_STEPS)[number];

/** The steps a provisioning run performs once the engine has the agent answering SSH. */
export const PROVISIONING_STEPS = ['phase1', 'hostkey', 'rekeyed', 'phase2', 'ready'] as const;

export type ProvisioningStep = (typeof PROVISIONING_STEPS)[number];

export interface StepFailure {
  step: ProvisioningStep;
  message: string;
  /** Where the full output of the failed step is kept, when there is one. */
  logPath?: string;
  at: string;
}

/** How far one agent's provisioning got; stored per agent in the engine's state store. */
export interface ProvisionProgress {
  /** The last provisioning step that completed; undefined before phase 1 finished. */
  done?: ProvisioningStep;
  /** The host key recorded at the `hostkey` step ("ssh-ed25519 AAAA...", no comment). */
  hostKey?: string;
  failure?: StepFailure;
  updatedAt?: string;
}

export function isProvisioningStep(value: string): value is ProvisioningStep {
  return (PROVISIONING_STEPS as readonly string[]).includes(value);
}

function indexOf(step: ProvisioningStep | undefined): number {
  return step === undefined ? -1 : PROVISIONING_STEPS.indexOf(step);
}

export function isDone(progress: ProvisionProgress, step: ProvisioningStep): boolean {
  return indexOf(progress.done) >= indexOf(step);
}

/** The step after the last completed one, or undefined when the agent is ready. */
export function nextStep(progress: ProvisionProgress): ProvisioningStep | undefined {
  return PROVISIONING_STEPS[indexOf(progress.done) + 1];
}

export class StepOrderError extends Error {
  constructor(
    readonly step: ProvisioningStep,
    readonly done: ProvisioningStep | undefined,
  ) {
    super(`cannot complete step ${step}: the next step is ${nextStep({ done }) ?? '(none, agent is ready)'}`);
    this.name = 'StepOrderError';
  }
}

/**
 * Marks `step` completed (clearing a recorded failure). Completing an already completed step
 * changes nothing; skipping ahead is a bug in the caller.
 */
export function completeStep(
  progress: ProvisionProgress,
  step: ProvisioningStep,
  now: string,
  hostKey?: string,
): ProvisionProgress {
  if (isDone(progress, step)) return progress;
  if (nextStep(progress) !== step) throw new StepOrderError(step, progress.done);
  const { failure: _cleared, ...rest } = progress;
  return { ...rest, done: step, updatedAt: now, ...(hostKey === undefined ? {} : { hostKey }) };
}

/** Records a failure of a step; what was completed stays completed. */
export function failStep(
  progress: ProvisionProgress,
  failure: Omit<StepFailure, 'at'>,
  now: string,
): ProvisionProgress {
  return { ...progress, failure: { ...failure, at: now }, updatedAt: now };
}

/**
 * Forgets `from` and everything after it, so the next run redoes them (`--from <step>`). The
 * recorded host key survives: only a new disk (a new guest, which drops the whole record) may
 * legitimately present a new key; otherwise a different key at re-capture is refused.
 */
export function rewindTo(
  progress: ProvisionProgress,
  from: ProvisioningStep,
  now: string,
): ProvisionProgress {
  if (!isDone(progress, from)) return progress;
  const before = PROVISIONING_STEPS[indexOf(from) - 1];
  return {
    ...(before === undefined ? {} : { done: before }),
    ...(progress.hostKey === undefined ? {} : { hostKey: progress.hostKey }),
    updatedAt: now,
  };
}

/** The provisioning steps a run has to perform, in order. */
export function pendingSteps(progress: ProvisionProgress): ProvisioningStep[] {
  return PROVISIONING_STEPS.filter((s) => !isDone(progress, s));
}

/**
 * The engine's bring-up phase as a step of this machine: a disk exists, the domain is
 * defined, the guest answers SSH. Phases before the disk (or unknown ones) have no step.
 */
export function bringUpStep(phase: string | undefined): ProvisionStep | undefined {
  switch (phase) {
    case 'disk':
      return 'disk';
    case 'defined':
    case 'started':
      return 'defined';
    case 'ssh-ready':
      return 'booted';
    default:
      return undefined;
  }
}

/** The agent's current step for `fleet status`, with a failure if the next step failed. */
export function describeStep(phase: string | undefined, progress: ProvisionProgress | undefined): string {
  const step = progress?.done ?? bringUpStep(phase) ?? '-';
  return progress?.failure ? `${step} (${progress.failure.step} failed)` : step;
}
