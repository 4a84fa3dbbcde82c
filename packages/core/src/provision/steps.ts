// The per-agent provisioning state machine: the seeds' deployment flow as an ordered list of
// steps, the record of how far an agent got, and which steps a run still has to do.

/** In order. `disk`, `defined` and `booted` are the engine's bring-up; the rest is provisioning. */
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
export const PROVISIONING_STEPS: readonly ProvisionStep[] = PROVISION_STEPS.slice(
  PROVISION_STEPS.indexOf('phase1'),
);

export interface StepFailure {
  step: ProvisionStep;
  message: string;
  /** Where the full output of the failed step is kept, when there is one. */
  logPath?: string;
  at: string;
}

/** How far one agent got; stored per agent in the engine's state store. */
export interface ProvisionProgress {
  /** The last step that completed; undefined before the disk exists. */
  done?: ProvisionStep;
  /** The host key recorded at the `hostkey` step, as an authorized_keys line without comment. */
  hostKey?: string;
  failure?: StepFailure;
  updatedAt?: string;
}

export function isProvisionStep(value: string): value is ProvisionStep {
  return (PROVISION_STEPS as readonly string[]).includes(value);
}

export function stepIndex(step: ProvisionStep | undefined): number {
  return step === undefined ? -1 : PROVISION_STEPS.indexOf(step);
}

export function isDone(progress: ProvisionProgress, step: ProvisionStep): boolean {
  return stepIndex(progress.done) >= stepIndex(step);
}

/** The step after the last completed one, or undefined when the agent is ready. */
export function nextStep(progress: ProvisionProgress): ProvisionStep | undefined {
  return PROVISION_STEPS[stepIndex(progress.done) + 1];
}

export class StepOrderError extends Error {
  constructor(
    readonly step: ProvisionStep,
    readonly done: ProvisionStep | undefined,
  ) {
    super(`cannot complete step ${step}: the next step is ${nextStep({ done }) ?? '(none, agent is ready)'}`);
    this.name = 'StepOrderError';
  }
}

/**
 * Marks `step` completed. Completing an already completed step changes nothing (a resumed run
 * re-observes bring-up steps such as `booted`); skipping ahead is a bug in the caller.
 */
export function completeStep(
  progress: ProvisionProgress,
  step: ProvisionStep,
  now: string,
  hostKey?: string,
): ProvisionProgress {
  if (isDone(progress, step)) return progress;
  if (nextStep(progress) !== step) throw new StepOrderError(step, progress.done);
  const { failure: _cleared, ...rest } = progress;
  return { ...rest, done: step, updatedAt: now, ...(hostKey === undefined ? {} : { hostKey }) };
}

/** Records a failure of the next step; what was completed stays completed. */
export function failStep(
  progress: ProvisionProgress,
  failure: Omit<StepFailure, 'at'>,
  now: string,
): ProvisionProgress {
  return { ...progress, failure: { ...failure, at: now }, updatedAt: now };
}

/**
 * Forgets `from` and everything after it, so the next run redoes them (`--from <step>`). The
 * recorded host key survives unless the disk itself is redone: only a new disk is a new guest
 * that may legitimately present a new key; otherwise a different key at re-capture is refused.
 */
export function rewindTo(progress: ProvisionProgress, from: ProvisionStep, now: string): ProvisionProgress {
  if (!isDone(progress, from)) return progress;
  const before = PROVISION_STEPS[stepIndex(from) - 1];
  const keepKey = progress.hostKey !== undefined && from !== 'disk';
  return {
    ...(before === undefined ? {} : { done: before }),
    ...(keepKey ? { hostKey: progress.hostKey } : {}),
    updatedAt: now,
  };
}

/** The provisioning steps a run has to perform, in order, given how far the agent got. */
export function pendingProvisioning(progress: ProvisionProgress): ProvisionStep[] {
  return PROVISIONING_STEPS.filter((s) => !isDone(progress, s));
}

/** A short human label for `fleet status`: the last step done, or the step that failed. */
export function describeProgress(progress: ProvisionProgress | undefined): string {
  if (progress === undefined || progress.done === undefined) {
    return progress?.failure ? `failed at ${progress.failure.step}` : '-';
  }
  if (progress.failure) return `${progress.done}, failed at ${progress.failure.step}`;
  return progress.done;
}
