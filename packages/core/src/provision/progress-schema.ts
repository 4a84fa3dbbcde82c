import { z } from 'zod';
import { PROVISIONING_STEPS, type ProvisionProgress } from './steps.js';

const progressSchema = z.object({
  done: z.enum(PROVISIONING_STEPS).optional(),
  hostKey: z.string().optional(),
  failure: z
    .object({
      step: z.enum(PROVISIONING_STEPS),
      message: z.string(),
      logPath: z.string().optional(),
      at: z.string(),
    })
    .optional(),
  updatedAt: z.string().optional(),
});

/**
 * Reads a progress record from the state store; a record this version cannot read is an
 * error naming the agent, never silently treated as "nothing done" (that would rerun phases).
 */
export function parseProvisionProgress(raw: unknown, agent: string): ProvisionProgress {
  if (raw === undefined) return {};
  const parsed = progressSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`state: agents.${agent}.provision.${issue?.path.join('.')}: ${issue?.message}`);
  }
  return parsed.data as ProvisionProgress;
}
