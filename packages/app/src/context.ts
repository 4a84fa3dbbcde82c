import type { EngineLog } from '@agentfleet/engine';

/** What every application call gets from its front-end. */
export interface AppContext {
  /** Absolute path of the fleet repository (the directory containing agents/fleet.yaml). */
  dir: string;
  log: EngineLog;
  /** Something the user should read even when it is no error (the CLI prints it on stderr). */
  warn?(message: string): void;
  /** A line for the operator that is no warning (e.g. what a host build is doing). */
  note?(text: string): void;
  /** Admin identity files the user named for this call (the CLI's `-i`); see admin-identity.ts. */
  identities?: readonly string[];
  /** Asks the user for the passphrase of the key at `path` (the CLI: on the terminal, no echo). */
  askPassphrase?(path: string): Promise<string>;
}

export function warn(ctx: AppContext, message: string): void {
  if (ctx.warn) ctx.warn(message);
  else ctx.log.warn({}, message);
}

export function note(ctx: AppContext, text: string): void {
  if (ctx.note) ctx.note(text);
  else ctx.log.info({}, text);
}
