// The per-agent provisioning state machine: the seeds' deployment flow as an ordered list of
// steps, the record of how far an agent got, and which steps a run still has to do.
import { PHASES, type Phase } from '../plan/state.js';

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
 * The one phase vocabulary users see (`status`, `plan`, --json): the engine's bring-up phases,
 * then the provisioning steps. An agent answering SSH is `ssh-ready` everywhere.
 */
export const AGENT_PHASES = [...PHASES, ...PROVISIONING_STEPS] as const;
export type AgentPhase = (typeof AGENT_PHASES)[number];

/** How far an agent got: its last provisioning step once one finished, else its bring-up phase. */
export function agentPhase(phase: Phase | undefined, progress: ProvisionProgress | undefined): AgentPhase {
  return progress?.done ?? phase ?? 'declared';
}
