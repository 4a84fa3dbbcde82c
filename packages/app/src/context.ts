import type { EngineLog } from '@agentfleet/engine';

/** What every application call gets from its front-end. */
export interface AppContext {
  /** Absolute path of the fleet repository (the directory containing agents/fleet.yaml). */
  dir: string;
  log: EngineLog;
  /** Something the user should read even when it is no error (the CLI prints it on stderr). */
  warn?(message: string): void;
}

export function warn(ctx: AppContext, message: string): void {
  if (ctx.warn) ctx.warn(message);
  else ctx.log.warn({}, message);
}
