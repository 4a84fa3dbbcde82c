import { createRequire } from 'node:module';
import type { Logger as PinoLogger } from 'pino';
import type { PrettyOptions } from 'pino-pretty';
import { colorsOn } from './colour.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `pretty`: short coloured lines for people; `json`: pino's NDJSON for machines and log stores. */
export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

type Method = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
const METHODS: readonly Method[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/** What commands log through: pino's level methods. */
export type Logger = Pick<PinoLogger, Method>;

/** Pretty on a terminal, JSON when stderr is a pipe or file (a log collector reads it). */
export function defaultLogFormat(stderrIsTTY: boolean | undefined): LogFormat {
  return stderrIsTTY === true ? 'pretty' : 'json';
}

/** pino-pretty settings: one short line per message, colour only where the reader can see it. */
export function prettyOptions(colorize: boolean): PrettyOptions {
  return {
    colorize,
    sync: true,
    destination: 2,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname',
    singleLine: true,
  };
}

/**
 * Logs go to stderr so stdout carries only results (and stays parseable with --json).
 * pino (~30 CommonJS files, pino-pretty as many again) loads on the first message at an enabled
 * level: at the default level (warn) most commands never log, and should not pay for loading it.
 * Calls below the level do nothing, as pino's own would.
 */
export function createLogger(level: LogLevel, format: LogFormat = 'json'): Logger {
  let pinoLogger: PinoLogger | undefined;
  const real = (): PinoLogger => {
    if (!pinoLogger) {
      // Written `createRequire(import.meta.url)('name')` so that the CLI's bundle sees a plain require.
      const { pino } = createRequire(import.meta.url)('pino') as typeof import('pino');
      const destination =
        format === 'pretty'
          ? (createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty'))(
              prettyOptions(colorsOn(process.stderr)),
            )
          : pino.destination({ fd: 2, sync: true });
      pinoLogger = pino({ level, base: undefined }, destination);
    }
    return pinoLogger;
  };
  const rank = LOG_LEVELS.indexOf(level);
  const noop = () => {};
  const logger = {} as Record<Method, (...args: unknown[]) => void>;
  for (const m of METHODS) {
    logger[m] =
      LOG_LEVELS.indexOf(m) >= rank
        ? (...args: unknown[]) => {
            const l = real();
            (l[m] as (...a: unknown[]) => void).apply(l, args);
          }
        : noop;
  }
  return logger as unknown as Logger;
}
