import type { AppContext } from '@agentfleet/app/context';
import type { Command } from 'commander';
import { UsageError } from './errors.js';
import { findFleetDir } from './fleet-dir.js';
import {
  createLogger,
  defaultLogFormat,
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFormat,
  type Logger,
  type LogLevel,
} from './logging.js';
import { printNote } from './output.js';
import { askPassphrase } from './passphrase.js';

/** What every command gets: where the fleet repo is, how to print, where to log. */
export interface CliContext extends AppContext {
  json: boolean;
  log: Logger;
  /** The command as the --json envelope names it (`up`, `secrets add`). */
  command: string;
  /** `-i` files of a command that decrypts or rekeys secrets (admin-identity.ts). */
  identities: string[];
}

interface GlobalOptions {
  dir?: string;
  json?: boolean;
  logLevel?: string;
  logFormat?: string;
  identity?: string[];
}

/** Build the context from the global options of the program that parsed `command`. */
export function contextOf(command: Command): CliContext {
  const opts = command.optsWithGlobals<GlobalOptions>();
  const level = (opts.logLevel ?? 'warn') as LogLevel;
  if (!LOG_LEVELS.includes(level)) {
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got '${opts.logLevel}'`);
  }
  const format = (opts.logFormat ?? defaultLogFormat(process.stderr.isTTY)) as LogFormat;
  if (!LOG_FORMATS.includes(format)) {
    throw new UsageError(`--log-format must be one of ${LOG_FORMATS.join(', ')}, got '${opts.logFormat}'`);
  }
  return {
    dir: findFleetDir(opts.dir),
    json: opts.json === true,
    log: createLogger(level, format),
    command: commandPathOf(command),
    identities: opts.identity ?? [],
    warn: (message) => process.stderr.write(`warning: ${message}\n`),
    note: printNote,
    askPassphrase,
  };
}

/** `secrets add` for a subcommand; the root program's own name is left out. */
function commandPathOf(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}
